-- prelude.sql: TEMP views that every rule may use.  The engine runs this file on
-- its connection before any rule (and before the connection is made read-only);
-- in the sqlite3 shell:  .read rules/prelude.sql  then  .read rules/SIP-XXX-NNN.sql
-- Views only: no tables, no data.  Parameters a rule may use (bound by the engine;
-- in the shell: .param set :t1_us 500000 ...):
--   :t1_us   SIP timer T1 in microseconds (--t1, default 500000)
--   :t2_us   T2 = 4 s;  :tol_us  the timing tolerance of RULES.md G5 (50 ms)

-- Messages minus capture-level duplicates (G2), with packet endpoints as text
-- ("ip:port", IPv6 in brackets).
CREATE TEMP VIEW m AS
SELECT message.*,
       CASE WHEN instr(src_ip, ':') > 0 THEN '[' || src_ip || ']' ELSE src_ip END
           || ':' || src_port AS src,
       CASE WHEN instr(dst_ip, ':') > 0 THEN '[' || dst_ip || ']' ELSE dst_ip END
           || ':' || dst_port AS dst,
       -- the user part of the From and To URIs ("alice" of sip:alice@host), NULL without one
       CASE WHEN instr(from_uri, '@') > 0
            THEN substr(from_uri, instr(from_uri, ':') + 1, instr(from_uri, '@') - instr(from_uri, ':') - 1)
       END AS from_user,
       CASE WHEN instr(to_uri, '@') > 0
            THEN substr(to_uri, instr(to_uri, ':') + 1, instr(to_uri, '@') - instr(to_uri, ':') - 1)
       END AS to_user
FROM message WHERE dup_of IS NULL;

-- Logical messages (G1 + G2): the first copy of every request and of every
-- distinct response (status + To tag) of a transaction.
CREATE TEMP VIEW lm AS SELECT * FROM m WHERE is_retrans = 0;

-- Transactions with their hop endpoints as text.
CREATE TEMP VIEW t AS
SELECT txn.*,
       CASE WHEN instr(uac_ip, ':') > 0 THEN '[' || uac_ip || ']' ELSE uac_ip END
           || ':' || uac_port AS uac,
       CASE WHEN instr(uas_ip, ':') > 0 THEN '[' || uas_ip || ']' ELSE uas_ip END
           || ':' || uas_port AS uas
FROM txn;

-- How long each input was recorded: absence rules (no ACK, no refresh) need
-- end_us >= the deadline (RULES.md G3), otherwise they report "inconclusive".
CREATE TEMP VIEW coverage AS
SELECT capture_id, first_ts_us AS start_us, last_ts_us AS end_us FROM capture;
