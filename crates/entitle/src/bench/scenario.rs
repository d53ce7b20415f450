//! The four request shapes the bench drives, built before the clock starts so the load client
//! spends its CPU on sending, not on formatting JSON.

use bytes::Bytes;
use entitle_domain::datetime::Timestamp;
use http::{HeaderValue, Method, StatusCode};
use serde::Serialize;

use super::plan;

pub const PROFILE_PATH: &str = "/api/v2/server-side-api/profile/";
pub const SET_TRANSACTION_PATH: &str = "/api/v2/server-side-api/purchase/set/transaction/";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// GET a seeded profile.
    Get,
    /// POST create a new profile with a few attributes.
    Create,
    /// POST set-transaction: a renewal in a seeded profile's chain.
    SetTransaction,
    /// DELETE a seeded profile.
    Delete,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::Get,
        Scenario::Create,
        Scenario::SetTransaction,
        Scenario::Delete,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Get => "get",
            Scenario::Create => "create",
            Scenario::SetTransaction => "set-transaction",
            Scenario::Delete => "delete",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Scenario::Get => "GET profile",
            Scenario::Create => "POST create",
            Scenario::SetTransaction => "POST set-transaction",
            Scenario::Delete => "DELETE profile",
        }
    }

    pub fn method(self) -> Method {
        match self {
            Scenario::Get => Method::GET,
            Scenario::Create | Scenario::SetTransaction => Method::POST,
            Scenario::Delete => Method::DELETE,
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Scenario::SetTransaction => SET_TRANSACTION_PATH,
            _ => PROFILE_PATH,
        }
    }

    /// The only status counted as a success.
    pub fn expected(self) -> StatusCode {
        match self {
            Scenario::Delete => StatusCode::NO_CONTENT,
            _ => StatusCode::OK,
        }
    }

    /// Whether each request needs a seeded profile of its own.
    pub fn uses_seeded_profiles(self) -> bool {
        !matches!(self, Scenario::Create)
    }
}

/// One request: the profile it names and its body.
#[derive(Clone)]
pub struct Prepared {
    pub customer_user_id: HeaderValue,
    pub body: Bytes,
}

/// The requests of a scenario, one per index, in order. `anchor` is when the profiles were
/// seeded (their transactions' dates derive from it).
pub fn prepare(scenario: Scenario, indexes: &[u64], anchor: Timestamp) -> Vec<Prepared> {
    let now = Timestamp::now();
    indexes
        .iter()
        .map(|&index| {
            let (cuid, body) = match scenario {
                Scenario::Get | Scenario::Delete => (plan::customer_user_id(index), Bytes::new()),
                Scenario::Create => (
                    plan::new_customer_user_id(index),
                    Bytes::from(plan::create_body(index).to_string()),
                ),
                Scenario::SetTransaction => (
                    plan::customer_user_id(index),
                    Bytes::from(
                        plan::transaction_body(index, plan::SEEDED_TRANSACTIONS, anchor, now)
                            .to_string(),
                    ),
                ),
            };
            Prepared {
                customer_user_id: HeaderValue::from_str(&cuid).expect("an ASCII header value"),
                body,
            }
        })
        .collect()
}
