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
-- 002, 005 and 009 -- for the dialogs where one of these rules can fire at all.
-- The pairs, without reading every message: a transaction with a dialog_id has a logical message
-- in that dialog (its request, or the response that gave it the dialog; lib/txn).  Other pairs
-- come only from the responses to an initial INVITE (SUBSCRIBE, REFER: the requests that make
-- dialogs) that landed in another dialog than txn.dialog_id -- the forks: those are read through
-- the index message_txn.
-- Which dialogs: the four rules partition R(D) by side and hop (the unordered address pair and
-- transport: the tuples (ip, port) compared here are one-to-one with the "ip:port" texts the rules
-- compare; a NULL ip or port makes both keys NULL there, and all four here) and order it by req_first_us,
-- req_msg_id.  An in-dialog row can fire only when its number is not exactly one above the highest
-- number before it in its partition: SIP-CSEQ-001 needs it below, 002 equal (an earlier row with
-- the same number), 005 more than one above, 009 at most the highest answered one.  A dialog
-- without such a row is left out: the rules would find nothing there (their windows partition by
-- dialog first, so the dialogs kept see the same rows as before).  A number outside
-- 0..999999999998 keeps its dialog too (the rules compare printf('%012d') texts, which order
-- like the numbers only in that range; the parser stores 0..2^32-1).
-- How: one window over the rows of every dialog was the cost of this table (a sort of all of them,
-- then the window's own pass: ~7k instructions per message on 100k).  Now the window runs only on the
-- dialogs with fork rows or a row without req_first_us or req_msg_id ("odd": rare); for the others
-- each in-dialog row looks up the highest number before it in its partition through the index
-- txn_dialog (dialog_id, uac_side, req_first_us), the same partition test spelled out: same
-- transport (IS), and both rows with a NULL endpoint or the same unordered endpoint pair; "before"
-- is (req_first_us, req_msg_id) smaller, which has no ties there (req_msg_id differs between the
-- transactions of a dialog).  Same pairs as the window over every dialog (compared on the corpus and
-- on randomly altered databases); the rules then run their own windows on the few dialogs kept.
CREATE TEMP TABLE cseq_dialog_txn AS
WITH fork AS (
    SELECT DISTINCT m.dialog_id, m.txn_id
    FROM txn x CROSS JOIN message m ON m.txn_id = x.txn_id
    WHERE x.in_dialog = 0 AND (x.kind = 'INVITE' OR x.method IN ('SUBSCRIBE', 'REFER'))
      AND m.is_retrans = 0 AND m.dup_of IS NULL AND m.dialog_id IS NOT NULL
      AND m.dialog_id IS NOT x.dialog_id
), odd AS (   -- dialogs left to the window: fork rows, or a row without its ordering keys
    SELECT dialog_id FROM fork
    UNION
    SELECT dialog_id FROM txn INDEXED BY txn_dialog
    WHERE dialog_id IS NOT NULL AND (req_first_us IS NULL OR req_msg_id IS NULL)
), r AS (   -- the rows of every R(D, side, hop) of the odd dialogs
    SELECT dialog_id, uac_side, transport, uac_ip, uac_port, uas_ip, uas_port, req_first_us,
           req_msg_id, cseq_num, in_dialog,
           CASE WHEN uac_ip IS NULL OR uac_port IS NULL OR uas_ip IS NULL OR uas_port IS NULL THEN NULL
                ELSE (uac_ip, uac_port) <= (uas_ip, uas_port) END AS lo
    FROM txn
    WHERE dialog_id IN (SELECT dialog_id FROM odd) AND kind IN ('INVITE', 'NONINVITE') AND method NOT IN ('ACK', 'CANCEL')
      AND cseq_num IS NOT NULL AND uac_side IN ('caller', 'callee')
    UNION ALL
    SELECT f.dialog_id, x.uac_side, x.transport, x.uac_ip, x.uac_port, x.uas_ip, x.uas_port,
           x.req_first_us, x.req_msg_id, x.cseq_num, x.in_dialog,
           CASE WHEN x.uac_ip IS NULL OR x.uac_port IS NULL OR x.uas_ip IS NULL OR x.uas_port IS NULL
                THEN NULL ELSE (x.uac_ip, x.uac_port) <= (x.uas_ip, x.uas_port) END
    FROM fork f JOIN txn x ON x.txn_id = f.txn_id
    WHERE x.kind IN ('INVITE', 'NONINVITE') AND x.method NOT IN ('ACK', 'CANCEL')
      AND x.cseq_num IS NOT NULL AND x.uac_side IN ('caller', 'callee')
), w AS (
    SELECT dialog_id, in_dialog, cseq_num,
           max(cseq_num) OVER (
               PARTITION BY dialog_id, uac_side, transport,
                   CASE lo WHEN 1 THEN uac_ip WHEN 0 THEN uas_ip END,
                   CASE lo WHEN 1 THEN uac_port WHEN 0 THEN uas_port END,
                   CASE lo WHEN 1 THEN uas_ip WHEN 0 THEN uac_ip END,
                   CASE lo WHEN 1 THEN uas_port WHEN 0 THEN uac_port END
               ORDER BY req_first_us, req_msg_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max
    FROM r
), pm AS MATERIALIZED (   -- the other dialogs: each in-dialog row and the highest number before it
    SELECT i.dialog_id, i.cseq_num,
           (SELECT max(p.cseq_num) FROM txn p
            WHERE p.dialog_id = i.dialog_id AND p.uac_side = i.uac_side
              AND p.req_first_us <= i.req_first_us
              AND (p.req_first_us < i.req_first_us OR p.req_msg_id < i.req_msg_id)
              AND p.kind IN ('INVITE', 'NONINVITE') AND p.method NOT IN ('ACK', 'CANCEL')
              AND p.cseq_num IS NOT NULL AND p.transport IS i.transport
              AND CASE WHEN i.uac_ip IS NULL OR i.uac_port IS NULL OR i.uas_ip IS NULL OR i.uas_port IS NULL
                       THEN p.uac_ip IS NULL OR p.uac_port IS NULL OR p.uas_ip IS NULL OR p.uas_port IS NULL
                       ELSE (p.uac_ip = i.uac_ip AND p.uac_port = i.uac_port AND p.uas_ip = i.uas_ip
                             AND p.uas_port = i.uas_port)
                            OR (p.uac_ip = i.uas_ip AND p.uac_port = i.uas_port AND p.uas_ip = i.uac_ip
                                AND p.uas_port = i.uac_port) END) AS prev_max
    FROM txn i
    WHERE i.dialog_id IS NOT NULL AND i.in_dialog = 1
      AND i.kind IN ('INVITE', 'NONINVITE') AND i.method NOT IN ('ACK', 'CANCEL')
      AND i.cseq_num IS NOT NULL AND i.uac_side IN ('caller', 'callee')
), keep AS (
    SELECT dialog_id FROM w
    WHERE in_dialog = 1 AND prev_max IS NOT NULL
      AND (cseq_num IS NOT prev_max + 1 OR prev_max NOT BETWEEN 0 AND 999999999998)
    UNION
    SELECT dialog_id FROM pm
    WHERE prev_max IS NOT NULL
      AND (cseq_num IS NOT prev_max + 1 OR prev_max NOT BETWEEN 0 AND 999999999998)
      AND dialog_id NOT IN (SELECT dialog_id FROM odd)
)
SELECT x.dialog_id, x.txn_id FROM keep k JOIN txn x ON x.dialog_id = k.dialog_id
UNION ALL
SELECT f.dialog_id, f.txn_id FROM keep k JOIN fork f ON f.dialog_id = k.dialog_id;

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
