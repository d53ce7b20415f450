-- Purchases: chains of transactions, their owner and inheritors, server-side overrides, and the
-- app configuration that maps products to access levels.
--
-- A chain keeps its transactions as one compact document of store facts (nothing about any
-- person), so detaching it from a deleted parent rewrites one small row.

ALTER TABLE apps ADD COLUMN sharing_production TEXT NOT NULL DEFAULT 'enabled';
ALTER TABLE apps ADD COLUMN sharing_sandbox TEXT NOT NULL DEFAULT 'enabled';

-- The derived view of a profile's purchases (access candidates, subscriptions,
-- non-subscriptions, revenue), rewritten in the transaction of every change that affects it.
ALTER TABLE profiles ADD COLUMN purchases TEXT;

CREATE TABLE access_levels (
    app_pk          INTEGER NOT NULL,
    access_level_id TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (app_pk, access_level_id)
) WITHOUT ROWID;

CREATE TABLE products (
    app_pk           INTEGER NOT NULL,
    store            TEXT NOT NULL,
    store_product_id TEXT NOT NULL,
    access_level_id  TEXT NOT NULL,
    PRIMARY KEY (app_pk, store, store_product_id)
) WITHOUT ROWID;

CREATE TABLE chains (
    chain_pk                INTEGER PRIMARY KEY,
    app_pk                  INTEGER NOT NULL,
    store                   TEXT NOT NULL,
    original_transaction_id TEXT NOT NULL,
    -- The parent profile; NULL once it has been deleted (the chain is detached).
    owner_profile_id        BLOB,
    owner_has_access        INTEGER NOT NULL DEFAULT 1,
    transactions            TEXT NOT NULL,
    UNIQUE (app_pk, store, original_transaction_id)
);

CREATE INDEX chains_by_owner ON chains (app_pk, owner_profile_id)
    WHERE owner_profile_id IS NOT NULL;

-- Finds the chain of a known store transaction id.
CREATE TABLE transaction_ids (
    app_pk               INTEGER NOT NULL,
    store                TEXT NOT NULL,
    store_transaction_id TEXT NOT NULL,
    chain_pk             INTEGER NOT NULL,
    PRIMARY KEY (app_pk, store, store_transaction_id)
) WITHOUT ROWID;

-- Profiles that inherit a chain's access (keyed by profile, so they leave with it).
CREATE TABLE chain_inheritors (
    app_pk     INTEGER NOT NULL,
    profile_id BLOB NOT NULL,
    chain_pk   INTEGER NOT NULL,
    PRIMARY KEY (app_pk, profile_id, chain_pk)
) WITHOUT ROWID;

CREATE INDEX chain_inheritors_by_chain ON chain_inheritors (chain_pk);

-- Server-side grants and revokes per profile and access level.
CREATE TABLE access_overrides (
    app_pk          INTEGER NOT NULL,
    profile_id      BLOB NOT NULL,
    access_level_id TEXT NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (app_pk, profile_id, access_level_id)
) WITHOUT ROWID;
