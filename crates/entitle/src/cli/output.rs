//! Printing command results: one JSON document with `--json`, readable lines otherwise.

use serde_json::Value;

pub fn print(json: bool, value: &Value, human: impl FnOnce() -> String) {
    if json {
        println!("{value}");
    } else {
        println!("{}", human());
    }
}
