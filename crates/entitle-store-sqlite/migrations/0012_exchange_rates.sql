-- US dollars per unit of a currency, per app, as its operator sets them (`entitle currencies`):
-- a transaction in another currency than USD is converted at the rate of its arrival.
CREATE TABLE exchange_rates (
    app_pk        INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    usd_per_unit  REAL NOT NULL,
    PRIMARY KEY (app_pk, currency)
) WITHOUT ROWID;
