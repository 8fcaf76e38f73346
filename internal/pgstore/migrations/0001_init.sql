-- The leader's lease: one row. A replica leads while it holds the lease
-- and it has not expired (by the database's clock); each new holder gets
-- the next epoch, which every write of a leader checks.
CREATE TABLE leader_lease (
    id         smallint    PRIMARY KEY CHECK (id = 1),
    holder     text        NOT NULL DEFAULT '',
    epoch      bigint      NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL DEFAULT '-infinity',
    changed_at timestamptz
);
INSERT INTO leader_lease (id) VALUES (1);

-- The published generation: one row, replaced whole by each publication.
-- state is what an incremental sync resumes from (orgsync's state file
-- format), snapshot the served bodies with their ETags; held_* is the
-- snapshot the deletion guard holds back, with its state and description.
CREATE TABLE published (
    id            smallint    PRIMARY KEY CHECK (id = 1),
    generation    bigint      NOT NULL DEFAULT 0,
    epoch         bigint      NOT NULL DEFAULT 0,
    writer        text        NOT NULL DEFAULT '',
    published_at  timestamptz,
    state         bytea,
    state_at      timestamptz,
    snapshot      bytea,
    held_state    bytea,
    held_snapshot bytea,
    held_info     bytea,
    held_since    timestamptz
);
INSERT INTO published (id) VALUES (1);
