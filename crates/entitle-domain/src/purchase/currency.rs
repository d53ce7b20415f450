//! Prices in other currencies than the US dollar, in dollars.
//!
//! Adapty reports revenue in USD (`total_revenue_usd`, `price_usd`, spec §4.4, §9.4) and
//! converts what was charged in other currencies. entitle has no exchange-rate feed of its own:
//! an app's operator sets the rates it should use (`entitle currencies set`), and a
//! transaction is converted at the rate its app had when the transaction arrived, so that later
//! rate changes do not rewrite past revenue. Without a rate, such a price counts for nothing
//! and its `price_usd` is null.

/// The one currency every price is counted in.
pub const USD: &str = "USD";

/// An ISO 4217 currency code as entitle keeps it: three ASCII letters, upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CurrencyCode(String);

impl CurrencyCode {
    /// Three ASCII letters in any case; `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| Self(text.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_usd(&self) -> bool {
        self.0 == USD
    }
}

impl std::fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// US dollars per unit of a currency: finite, above zero, and at most a million (no currency is
/// worth more; a larger number is a typing mistake).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsdRate(f64);

impl UsdRate {
    pub const MAX: f64 = 1e6;

    pub fn new(usd_per_unit: f64) -> Option<Self> {
        (usd_per_unit.is_finite() && usd_per_unit > 0.0 && usd_per_unit <= Self::MAX)
            .then_some(Self(usd_per_unit))
    }

    pub fn usd_per_unit(self) -> f64 {
        self.0
    }
}

/// `value` of `currency` in US dollars, rounded to cents: as it is when charged in USD, else at
/// `rate` (`None` without one).
pub fn in_usd(value: f64, currency: &str, rate: Option<f64>) -> Option<f64> {
    if currency.eq_ignore_ascii_case(USD) {
        return Some(value);
    }
    let converted = value * rate?;
    Some((converted * 100.0).round() / 100.0).filter(|usd| usd.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_three_letters_in_upper_case() {
        let code = |text: &str| CurrencyCode::parse(text).map(|c| c.as_str().to_owned());
        assert_eq!(code("eur").as_deref(), Some("EUR"));
        assert_eq!(code("EUR").as_deref(), Some("EUR"));
        assert!(CurrencyCode::parse("usd").unwrap().is_usd());
        for bad in ["", "EU", "EURO", "E1R", "€UR"] {
            assert_eq!(code(bad), None, "{bad}");
        }
    }

    #[test]
    fn rates_are_positive_finite_and_plausible() {
        assert_eq!(UsdRate::new(1.08).map(UsdRate::usd_per_unit), Some(1.08));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e7] {
            assert_eq!(UsdRate::new(bad), None, "{bad}");
        }
    }

    #[test]
    fn dollars_stay_as_charged_and_others_convert_to_cents() {
        assert_eq!(in_usd(9.99, "usd", None), Some(9.99));
        assert_eq!(in_usd(7.99, "EUR", Some(1.0843)), Some(8.66));
        assert_eq!(in_usd(7.99, "EUR", None), None);
    }
}
