-- prelude.sql: TEMP views that every rule may use, and shared TEMP tables that some
-- rules use (built once per run, only when an enabled rule names them: see below).
-- The engine runs this file on its connection before any rule (and before the
-- connection is made read-only); in the sqlite3 shell:  .read rules/prelude.sql
-- then  .read rules/SIP-XXX-NNN.sql.  Parameters a rule may use (bound by the engine;
-- in the shell: .param set :t1_us 500000 ...):
--   :t1_us   SIP timer T1 in microseconds (--t1, default 500000)
--   :t2_us   T2 = 4 s;  :tol_us  the timing tolerance of RULES.md G5 (50 ms)

-- Messages minus capture-level duplicates (G2), with packet endpoints as text
-- ("ip:port", IPv6 in brackets).
CREATE TEMP VIEW IF NOT EXISTS m AS
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
CREATE TEMP VIEW IF NOT EXISTS lm AS SELECT * FROM m WHERE is_retrans = 0;

-- Transactions with their hop endpoints as text.
CREATE TEMP VIEW IF NOT EXISTS t AS
SELECT txn.*,
       CASE WHEN instr(uac_ip, ':') > 0 THEN '[' || uac_ip || ']' ELSE uac_ip END
           || ':' || uac_port AS uac,
       CASE WHEN instr(uas_ip, ':') > 0 THEN '[' || uas_ip || ']' ELSE uas_ip END
           || ':' || uas_port AS uas
FROM txn;

-- How long each input was recorded: absence rules (no ACK, no refresh) need
-- end_us >= the deadline (RULES.md G3), otherwise they report "inconclusive".
CREATE TEMP VIEW IF NOT EXISTS coverage AS
SELECT capture_id, first_ts_us AS start_us, last_ts_us AS end_us FROM capture;

-- Shared tables.  Each is built once per run, and only when an enabled rule names it: the engine
-- runs a "CREATE TEMP TABLE name AS ..." statement of this file only if some enabled rule's text
-- contains name (in the sqlite3 shell, .read builds them all).

-- cseq_dialog_txn(dialog_id, txn_id): the pairs (dialog D, transaction X) where X has a logical
-- message in D -- RULES.md B.3, the base of the evaluation sets R(D, side, hop) of SIP-CSEQ-001,
-- 002, 005 and 009 -- for the dialogs where these rules can fire at all.  In the others each side
-- sent at most two transactions (INVITE or non-INVITE, not ACK or CANCEL, with a CSeq number) and
-- the later of the two is numbered exactly one above the earlier: no number went down, was reused
-- or skipped.  (The two are compared by their sums: the one with the highest req_msg_id, and the
-- other; when the later by req_msg_id is not also the later by req_first_us, the dialog is kept.)
-- The pairs, without reading every message: a transaction with a dialog_id has a logical message
-- in that dialog (its request, or the response that gave it the dialog; lib/txn).  Other pairs
-- come only from the responses to an initial INVITE (SUBSCRIBE, REFER: the requests that make
-- dialogs) that landed in another dialog than txn.dialog_id -- the forks: those are read through
-- the index message_txn, and their dialogs are always kept.
CREATE TEMP TABLE cseq_dialog_txn AS
WITH fork AS (
    SELECT DISTINCT m.dialog_id, m.txn_id
    FROM txn x CROSS JOIN message m ON m.txn_id = x.txn_id
    WHERE x.in_dialog = 0 AND (x.kind = 'INVITE' OR x.method IN ('SUBSCRIBE', 'REFER'))
      AND m.is_retrans = 0 AND m.dup_of IS NULL AND m.dialog_id IS NOT NULL
      AND m.dialog_id IS NOT x.dialog_id
), side AS (
    SELECT dialog_id, count(*) AS n, max(req_msg_id), cseq_num AS c_last, req_first_us AS t_last,
           total(cseq_num) AS c_sum, total(req_first_us) AS t_sum
    FROM txn
    WHERE dialog_id IS NOT NULL AND kind IN ('INVITE', 'NONINVITE') AND method NOT IN ('ACK', 'CANCEL')
      AND cseq_num IS NOT NULL AND uac_side IN ('caller', 'callee')
    GROUP BY dialog_id, uac_side
), keep AS (
    SELECT dialog_id FROM side
    WHERE n > 2
       OR (n = 2 AND NOT (c_last = c_sum - c_last + 1 AND t_last >= t_sum - t_last
                          AND abs(t_last) < 4503599627370496 AND abs(t_sum) < 9007199254740992))
    UNION
    SELECT dialog_id FROM fork
)
SELECT x.dialog_id, x.txn_id FROM keep k JOIN txn x ON x.dialog_id = k.dialog_id
UNION
SELECT dialog_id, txn_id FROM fork;

-- fork_txn(txn_id): the transactions whose provisional (with a To tag) and 2xx responses carry at
-- least two different To tags (a 2xx without a tag counts as the tag ''): the only ones where
-- SIP-FORK-001 (2xx with two tags) and SIP-FORK-006 (provisional/2xx with two tags) can fire.
-- One pass over txn_response's primary key: two tags differ, so one of them is not the tag of the
-- transaction's first final response (txn.final_to_tag); only those transactions are grouped.
CREATE TEMP TABLE fork_txn AS
WITH maybe AS (
    SELECT DISTINCT r.txn_id FROM txn_response r JOIN txn x ON x.txn_id = r.txn_id
    WHERE ((r.status BETWEEN 101 AND 299 AND r.to_tag <> '') OR r.status BETWEEN 200 AND 299)
      AND r.to_tag IS NOT x.final_to_tag
)
SELECT r.txn_id FROM maybe m JOIN txn_response r ON r.txn_id = m.txn_id
WHERE (r.status BETWEEN 101 AND 299 AND r.to_tag <> '') OR r.status BETWEEN 200 AND 299
GROUP BY r.txn_id HAVING min(r.to_tag) <> max(r.to_tag);

-- msg_mark(msg_id, cancel, bad_cseq_method, session_timer): the logical messages (lm) that rules
-- look at one by one, found in one pass over the index message_txn (the messages themselves are
-- read only for these): CANCEL requests (SIP-CSEQ-004), requests other than ACK whose CSeq method
-- is not their method (SIP-CSEQ-008), messages with Session-Expires or Min-SE (SIP-ST-006, 007).
-- Each rule still applies its own conditions: this table only says where to look.
CREATE TEMP TABLE msg_mark AS
SELECT msg_id,
       is_request = 1 AND method = 'CANCEL' AS cancel,
       coalesce(is_request = 1 AND method <> 'ACK' AND cseq_method <> method, 0) AS bad_cseq_method,
       session_expires IS NOT NULL OR min_se IS NOT NULL AS session_timer
FROM message INDEXED BY message_txn   -- lm, without reading the messages
WHERE dup_of IS NULL AND is_retrans = 0
  AND ((is_request = 1 AND method = 'CANCEL')
       OR (is_request = 1 AND method <> 'ACK' AND cseq_method IS NOT NULL AND cseq_method <> method)
       OR session_expires IS NOT NULL OR min_se IS NOT NULL);
