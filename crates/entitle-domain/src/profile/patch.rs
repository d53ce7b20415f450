//! A create/update request as a set of changes, and the rule that applies it to a profile.

use super::attributes::{
    AttStatus, CountryCode, Email, Gender, Installation, Ipv4, Platform, ProfileAttributes,
    ProfileStore,
};
use super::custom::{CustomAttribute, CustomAttributeChange, MAX_CUSTOM_ATTRIBUTES};
use crate::datetime::CalendarDate;
use crate::error::ValidationError;

/// A field of a partial update: absent (keep), explicit `null` (clear), or a new value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    fn apply_to(self, slot: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *slot = None,
            Patch::Set(value) => *slot = Some(value),
        }
    }
}

/// Everything one create or update request asks to change. Only present fields change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfilePatch {
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub gender: Patch<Gender>,
    pub email: Patch<Email>,
    pub phone_number: Patch<String>,
    pub birthday: Patch<CalendarDate>,
    pub ip_country: Patch<CountryCode>,
    pub ip_v4_address: Patch<Ipv4>,
    pub store_country: Patch<CountryCode>,
    pub store: Patch<ProfileStore>,
    pub store_account_token: Patch<uuid::Uuid>,
    pub att_status: Patch<AttStatus>,
    pub analytics_disabled: Patch<bool>,
    /// Merged by key; a change without a value deletes its key.
    pub custom_attributes: Vec<CustomAttributeChange>,
    pub installation: Option<Installation>,
    /// The `adapty-platform` header: the platform of the installation this call is about.
    pub platform: Option<Platform>,
}

impl ProfileAttributes {
    /// Applies a patch. Fails, changing nothing, when the merged profile would hold more than
    /// 30 custom attributes.
    pub fn apply(&mut self, patch: ProfilePatch) -> Result<(), ValidationError> {
        let custom = merge_custom_attributes(&self.custom_attributes, patch.custom_attributes)?;
        self.custom_attributes = custom;

        patch.first_name.apply_to(&mut self.first_name);
        patch.last_name.apply_to(&mut self.last_name);
        patch.gender.apply_to(&mut self.gender);
        patch.email.apply_to(&mut self.email);
        patch.phone_number.apply_to(&mut self.phone_number);
        patch.birthday.apply_to(&mut self.birthday);
        patch.ip_country.apply_to(&mut self.ip_country);
        patch.ip_v4_address.apply_to(&mut self.ip_v4_address);
        patch.store_country.apply_to(&mut self.store_country);
        patch.store.apply_to(&mut self.store);
        patch
            .store_account_token
            .apply_to(&mut self.store_account_token);
        patch.att_status.apply_to(&mut self.att_status);
        patch
            .analytics_disabled
            .apply_to(&mut self.analytics_disabled);

        if let Some(mut installation) = patch.installation {
            installation.platform = installation.platform.or(patch.platform);
            match self
                .installations
                .iter_mut()
                .find(|known| known.device_id == installation.device_id)
            {
                Some(known) => *known = installation,
                None => self.installations.push(installation),
            }
        }
        Ok(())
    }
}

/// Merge by key: known keys keep their position, new keys are appended, deletions drop out.
fn merge_custom_attributes(
    current: &[CustomAttribute],
    changes: Vec<CustomAttributeChange>,
) -> Result<Vec<CustomAttribute>, ValidationError> {
    let mut merged = current.to_vec();
    for change in changes {
        let position = merged.iter().position(|known| known.key == change.key);
        match (position, change.value) {
            (Some(at), Some(value)) => merged[at].value = value,
            (Some(at), None) => {
                merged.remove(at);
            }
            (None, Some(value)) => merged.push(CustomAttribute {
                key: change.key,
                value,
            }),
            (None, None) => {}
        }
    }
    if merged.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(ValidationError::field(
            "custom_attributes",
            format!(
                "a profile can hold at most {MAX_CUSTOM_ATTRIBUTES} custom attributes; this request would leave {}",
                merged.len()
            ),
        ));
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::super::custom::{CustomAttributeKey, CustomAttributeValue};
    use super::*;
    use proptest::prelude::*;

    fn change(key: &str, value: Option<f64>) -> CustomAttributeChange {
        CustomAttributeChange {
            key: CustomAttributeKey::parse(key).unwrap(),
            value: value.map(CustomAttributeValue::Number),
        }
    }

    #[test]
    fn custom_attributes_merge_by_key() {
        let mut profile = ProfileAttributes::default();
        let patch = ProfilePatch {
            custom_attributes: vec![change("a", Some(1.0)), change("b", Some(2.0))],
            ..Default::default()
        };
        profile.apply(patch).unwrap();
        let patch = ProfilePatch {
            custom_attributes: vec![
                change("a", None),
                change("b", Some(3.0)),
                change("c", Some(4.0)),
            ],
            ..Default::default()
        };
        profile.apply(patch).unwrap();
        let keys: Vec<_> = profile
            .custom_attributes
            .iter()
            .map(|attribute| (attribute.key.as_str().to_owned(), attribute.value.clone()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("b".to_owned(), CustomAttributeValue::Number(3.0)),
                ("c".to_owned(), CustomAttributeValue::Number(4.0))
            ]
        );
    }

    #[test]
    fn more_than_thirty_attributes_is_refused_without_change() {
        let mut profile = ProfileAttributes::default();
        let fill = ProfilePatch {
            custom_attributes: (0..30)
                .map(|i| change(&format!("k{i}"), Some(1.0)))
                .collect(),
            ..Default::default()
        };
        profile.apply(fill).unwrap();
        let before = profile.clone();
        let one_more = ProfilePatch {
            custom_attributes: vec![change("extra", Some(1.0))],
            first_name: Patch::Set("Mara".into()),
            ..Default::default()
        };
        let error = profile.apply(one_more).unwrap_err();
        assert_eq!(error.source.as_deref(), Some("custom_attributes"));
        assert_eq!(profile, before);
    }

    #[test]
    fn null_clears_and_absent_keeps() {
        let mut profile = ProfileAttributes::default();
        profile
            .apply(ProfilePatch {
                first_name: Patch::Set("Mara".into()),
                last_name: Patch::Set("L".into()),
                ..Default::default()
            })
            .unwrap();
        profile
            .apply(ProfilePatch {
                first_name: Patch::Clear,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(profile.first_name, None);
        assert_eq!(profile.last_name.as_deref(), Some("L"));
    }

    #[test]
    fn installations_are_keyed_by_device() {
        let mut profile = ProfileAttributes::default();
        for os in ["iOS 17", "iOS 18"] {
            profile
                .apply(ProfilePatch {
                    installation: Some(Installation {
                        device_id: "d1".into(),
                        platform: None,
                        details: vec![("os".into(), os.into())],
                    }),
                    platform: Some(Platform::Ios),
                    ..Default::default()
                })
                .unwrap();
        }
        assert_eq!(profile.installations.len(), 1);
        assert_eq!(profile.installations[0].platform, Some(Platform::Ios));
        assert_eq!(profile.installations[0].details[0].1, "iOS 18");
    }

    proptest! {
        /// Whatever sequence of changes arrives, the result holds each key at most once and
        /// never more than 30 keys.
        #[test]
        fn merge_keeps_keys_unique_and_bounded(
            batches in prop::collection::vec(
                prop::collection::vec((0u8..40, prop::option::of(0.0f64..10.0)), 0..12),
                1..8,
            )
        ) {
            let mut profile = ProfileAttributes::default();
            for batch in batches {
                let patch = ProfilePatch {
                    custom_attributes: batch.iter().map(|(k, v)| change(&format!("k{k}"), *v)).collect(),
                    ..Default::default()
                };
                let _ = profile.apply(patch);
                let mut keys: Vec<_> = profile.custom_attributes.iter().map(|a| a.key.as_str().to_owned()).collect();
                prop_assert!(keys.len() <= MAX_CUSTOM_ATTRIBUTES);
                keys.sort();
                keys.dedup();
                prop_assert_eq!(keys.len(), profile.custom_attributes.len());
            }
        }
    }
}
