-- Purchases: chains of transactions, their owner and inheritors, server-side overrides, and the
-- app configuration that maps products to access levels.
--
-- A chain keeps its transactions as one document of store facts (nothing about any person), so
-- detaching it from a deleted parent rewrites one small row.

CREATE TABLE access_levels (
    app_pk          BIGINT NOT NULL,
    access_level_id TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (app_pk, access_level_id)
);

CREATE TABLE products (
    app_pk           BIGINT NOT NULL,
    store            TEXT NOT NULL,
    store_product_id TEXT NOT NULL,
    access_level_id  TEXT NOT NULL,
    PRIMARY KEY (app_pk, store, store_product_id)
);

CREATE TABLE chains (
    chain_pk                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_pk                  BIGINT NOT NULL,
    store                   TEXT NOT NULL,
    original_transaction_id TEXT NOT NULL,
    -- The parent profile; NULL once it has been deleted (the chain is detached).
    owner_profile_id        UUID,
    owner_has_access        BOOLEAN NOT NULL DEFAULT TRUE,
    transactions            TEXT NOT NULL,
    -- When the current subscription period ends, so its expiry is announced when it happens.
    expiry_due_at           BIGINT,
    UNIQUE (app_pk, store, original_transaction_id)
);

CREATE INDEX chains_by_owner ON chains (app_pk, owner_profile_id)
    WHERE owner_profile_id IS NOT NULL;
CREATE INDEX chains_expiry_due ON chains (expiry_due_at) WHERE expiry_due_at IS NOT NULL;

-- Finds the chain of a known store transaction id.
CREATE TABLE transaction_ids (
    app_pk               BIGINT NOT NULL,
    store                TEXT NOT NULL,
    store_transaction_id TEXT NOT NULL,
    chain_pk             BIGINT NOT NULL,
    PRIMARY KEY (app_pk, store, store_transaction_id)
);

-- Profiles that inherit a chain's access (keyed by profile, so they leave with it).
CREATE TABLE chain_inheritors (
    app_pk     BIGINT NOT NULL,
    profile_id UUID NOT NULL,
    chain_pk   BIGINT NOT NULL,
    PRIMARY KEY (app_pk, profile_id, chain_pk)
);

CREATE INDEX chain_inheritors_by_chain ON chain_inheritors (chain_pk);

-- Server-side grants and revokes per profile and access level.
CREATE TABLE access_overrides (
    app_pk          BIGINT NOT NULL,
    profile_id      UUID NOT NULL,
    access_level_id TEXT NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (app_pk, profile_id, access_level_id)
);
