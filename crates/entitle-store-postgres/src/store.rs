//! The storage traits over the functions of this crate: each method one transaction, run again
//! from the start (with fresh copies of its inputs) when a concurrent one got in its way.

use async_trait::async_trait;
use entitle_domain::datetime::Timestamp;
use entitle_domain::events::RetryCutOffs;
use entitle_domain::profile::{Profile, ProfilePatch};
use entitle_domain::purchase::{
    AccessLevelId, CurrencyCode, Environment, GrantRequest, RevokeRequest, SharingPolicy, StoreId,
    Transaction, UsdRate,
};
use entitle_domain::resolve::ProfileRef;
use entitle_domain::{AppId, IntegrationId, KeyId};
use entitle_store::{
    AdminStore, ApiKeyRecord, AppRecord, AttemptResult, ClaimLimits, ClaimedDelivery, ConfigStore,
    DeletedBy, DeletionReport, DeliveryStore, EventFeedStore, EventPage, EventQuery, Integration,
    IntegrationStore, KeyRecord, KeyStore, KeyedProfile, NewKey, ProfileStore, PurchaseStore,
    StoreResult,
};

use crate::error::Error;
use crate::transact::{Mode, transaction};
use crate::{
    PgStore, apps, config, dated_ahead, deletion, deliveries, expirations, feed, integrations,
    overrides, profiles, purchases,
};

#[async_trait]
impl KeyStore for PgStore {
    async fn find_key(&self, lookup: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let lookup = lookup.to_owned();
        transaction!(self, Mode::Read, [lookup], |conn| apps::find_key(
            conn, &lookup
        ))
    }
}

#[async_trait]
impl ProfileStore for PgStore {
    async fn create_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        patch: ProfilePatch,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        transaction!(self, Mode::Write, [target, patch], |conn| {
            profiles::create(conn, app, &target, patch, at)
        })
    }

    async fn get_profile(&self, app: AppId, target: ProfileRef) -> StoreResult<Profile> {
        transaction!(self, Mode::Read, [target], |conn| profiles::get(
            conn, app, &target
        ))
    }

    async fn get_profile_by_key(
        &self,
        lookup: &str,
        target: ProfileRef,
    ) -> StoreResult<KeyedProfile> {
        let lookup = lookup.to_owned();
        transaction!(self, Mode::Read, [lookup, target], |conn| async {
            let key = apps::find_key(conn, &lookup).await?;
            let profile = match &key {
                Some(key) if !key.revoked => match profiles::get(conn, key.app_id, &target).await {
                    Ok(profile) => Some(Ok(profile)),
                    Err(Error::Store(answer)) => Some(Err(answer)),
                    Err(failure) => return Err(failure),
                },
                _ => None,
            };
            Ok(KeyedProfile { key, profile })
        })
    }

    async fn update_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        patch: ProfilePatch,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        transaction!(self, Mode::Write, [target, patch], |conn| {
            profiles::update(conn, app, &target, patch, at)
        })
    }

    async fn delete_profile(
        &self,
        app: AppId,
        target: ProfileRef,
        deleted_by: KeyId,
        at: Timestamp,
    ) -> StoreResult<DeletionReport> {
        let report = transaction!(self, Mode::Write, [target], |conn| {
            deletion::delete(conn, app, &target, DeletedBy::Key(deleted_by), at)
        })?;
        // Counted once committed, not once per attempt.
        entitle_store::metrics::PROFILES_DELETED.inc();
        Ok(report)
    }
}

#[async_trait]
impl PurchaseStore for PgStore {
    async fn set_transaction(
        &self,
        app: AppId,
        target: ProfileRef,
        transaction: Transaction,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        transaction!(self, Mode::Write, [target, transaction], |conn| {
            purchases::set_transaction(conn, app, &target, transaction, at)
        })
    }

    async fn grant_access_level(
        &self,
        app: AppId,
        target: ProfileRef,
        request: GrantRequest,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        transaction!(self, Mode::Write, [target, request], |conn| {
            overrides::grant(conn, app, &target, &request, at)
        })
    }

    async fn revoke_access_level(
        &self,
        app: AppId,
        target: ProfileRef,
        request: RevokeRequest,
        at: Timestamp,
    ) -> StoreResult<Profile> {
        transaction!(self, Mode::Write, [target, request], |conn| {
            overrides::revoke(conn, app, &target, &request, at)
        })
    }
}

#[async_trait]
impl ConfigStore for PgStore {
    async fn add_access_level(
        &self,
        app: AppId,
        level: AccessLevelId,
        at: Timestamp,
    ) -> StoreResult<()> {
        transaction!(self, Mode::Write, [level], |conn| {
            config::add_access_level(conn, app, &level, at)
        })
    }

    async fn list_access_levels(&self, app: AppId) -> StoreResult<Vec<AccessLevelId>> {
        transaction!(self, Mode::Read, [], |conn| config::list_access_levels(
            conn, app
        ))
    }

    async fn set_product(
        &self,
        app: AppId,
        store: StoreId,
        store_product_id: &str,
        level: AccessLevelId,
    ) -> StoreResult<()> {
        let product = store_product_id.to_owned();
        transaction!(self, Mode::Write, [store, product, level], |conn| {
            config::set_product(conn, app, &store, &product, &level)
        })
    }

    async fn set_sharing_policy(
        &self,
        app: AppId,
        environment: Environment,
        policy: SharingPolicy,
    ) -> StoreResult<()> {
        transaction!(self, Mode::Write, [], |conn| {
            config::set_sharing_policy(conn, app, environment, policy)
        })
    }

    async fn set_exchange_rate(
        &self,
        app: AppId,
        currency: &CurrencyCode,
        rate: UsdRate,
    ) -> StoreResult<()> {
        let currency = currency.clone();
        transaction!(self, Mode::Write, [currency], |conn| {
            config::set_exchange_rate(conn, app, &currency, rate)
        })
    }

    async fn remove_exchange_rate(&self, app: AppId, currency: &CurrencyCode) -> StoreResult<bool> {
        let currency = currency.clone();
        transaction!(self, Mode::Write, [currency], |conn| {
            config::remove_exchange_rate(conn, app, &currency)
        })
    }

    async fn list_exchange_rates(&self, app: AppId) -> StoreResult<Vec<(CurrencyCode, UsdRate)>> {
        transaction!(self, Mode::Read, [], |conn| config::list_exchange_rates(
            conn, app
        ))
    }
}

#[async_trait]
impl IntegrationStore for PgStore {
    async fn add_integration(&self, integration: Integration) -> StoreResult<Integration> {
        transaction!(self, Mode::Write, [integration], |conn| {
            integrations::add(conn, &integration)
        })
    }

    async fn list_integrations(&self, app: Option<AppId>) -> StoreResult<Vec<Integration>> {
        transaction!(self, Mode::Read, [], |conn| integrations::list(conn, app))
    }

    async fn remove_integration(
        &self,
        integration: IntegrationId,
        at: Timestamp,
    ) -> StoreResult<Integration> {
        transaction!(self, Mode::Write, [], |conn| {
            integrations::remove(conn, integration, at)
        })
    }
}

#[async_trait]
impl EventFeedStore for PgStore {
    async fn list_events(&self, app: AppId, query: EventQuery) -> StoreResult<EventPage> {
        transaction!(self, Mode::Snapshot, [query], |conn| {
            feed::list_events(conn, app, &query)
        })
    }
}

#[async_trait]
impl DeliveryStore for PgStore {
    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease: std::time::Duration,
        limits: ClaimLimits,
        cut_offs: RetryCutOffs,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let worker = worker.to_owned();
        transaction!(self, Mode::Write, [worker], |conn| {
            deliveries::claim(conn, &worker, now, lease, limits, cut_offs)
        })
    }

    async fn record_attempt(
        &self,
        claim: &ClaimedDelivery,
        result: AttemptResult,
    ) -> StoreResult<bool> {
        let claim = claim.clone();
        transaction!(self, Mode::Write, [claim, result], |conn| {
            deliveries::record(conn, &claim, &result)
        })
    }

    async fn announce_expirations(&self, now: Timestamp, limit: u32) -> StoreResult<u32> {
        transaction!(self, Mode::Write, [], |conn| expirations::announce_all(
            conn, now, limit
        ))
    }

    async fn reveal_dated_events(&self, now: Timestamp, limit: u32) -> StoreResult<u32> {
        transaction!(self, Mode::Write, [], |conn| dated_ahead::reveal(
            conn, now, limit
        ))
    }
}

#[async_trait]
impl AdminStore for PgStore {
    async fn create_app(
        &self,
        name: &str,
        first_key: NewKey,
        at: Timestamp,
    ) -> StoreResult<AppRecord> {
        let name = name.to_owned();
        transaction!(self, Mode::Write, [name, first_key], |conn| {
            apps::create_app(conn, &name, &first_key, at)
        })
    }

    async fn create_first_app(
        &self,
        name: &str,
        first_key: NewKey,
        at: Timestamp,
    ) -> StoreResult<Option<AppRecord>> {
        let name = name.to_owned();
        transaction!(self, Mode::Write, [name, first_key], |conn| {
            apps::create_first_app(conn, &name, &first_key, at)
        })
    }

    async fn list_apps(&self) -> StoreResult<Vec<AppRecord>> {
        transaction!(self, Mode::Read, [], |conn| apps::list_apps(conn))
    }

    async fn create_key(&self, app: AppId, key: NewKey, at: Timestamp) -> StoreResult<KeyRecord> {
        transaction!(self, Mode::Write, [key], |conn| {
            apps::create_key(conn, app, &key, at)
        })
    }

    async fn revoke_key(&self, key: KeyId, at: Timestamp) -> StoreResult<KeyRecord> {
        transaction!(self, Mode::Write, [], |conn| apps::revoke_key(
            conn, key, at
        ))
    }
}
