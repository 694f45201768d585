-- id: SIP-FORK-006
-- severity: info
-- title: Forking observed
-- rfc: RFC 3261 §13.2.2.1, RFC 3261 §13.2.2.4, RFC 3261 §16.7, RFC 3326 §3.1
-- impact: Context: the INVITE reached several phones; explains several early dialogs, early media
--   streams or 2xx for one call.
-- message: The INVITE (CSeq {cseq}) that {uac} sent to {uas} forked: {n} branches answered with
--   different To tags: {branches}
-- confidence: high
--
-- One INVITE transaction (per hop) whose provisional (101-199) and 2xx responses carry >= 2
-- distinct non-empty To tags: each tag is an early or confirmed dialog of its own.  A 100
-- Trying (normally without a tag) and the non-2xx final (one To tag chosen by the proxy) are
-- not counted; retransmissions are one txn_response row (G1), so they never look like forks.
-- Reported once per fork, at the topmost hop that shows it: a transaction with an ancestor
-- (parent_txn_id chain) that also shows >= 2 tags is skipped.  Evidence: the INVITE, the
-- first response and the first 2xx of each tag, the CANCEL of the
-- INVITE if any.
-- Only the transactions of fork_txn (rules/prelude.sql: two To tags) are read.
WITH resp AS (
    SELECT txn_id, to_tag, group_concat(status, '/') AS statuses, min(first_msg_id) AS first_msg_id,
           min(CASE WHEN status >= 200 THEN first_msg_id END) AS ok_msg_id,
           min(first_us) AS first_us
    FROM (SELECT r.* FROM fork_txn g JOIN txn x ON x.txn_id = g.txn_id
          JOIN txn_response r ON r.txn_id = x.txn_id AND r.status BETWEEN 101 AND 299
          WHERE x.kind = 'INVITE' AND r.to_tag <> '' ORDER BY r.txn_id, r.to_tag, r.first_us)
    GROUP BY txn_id, to_tag),
fork AS (
    SELECT txn_id, count(*) AS n FROM resp GROUP BY txn_id HAVING count(*) >= 2),
top AS (
    SELECT f.* FROM fork f JOIN txn x ON x.txn_id = f.txn_id
    WHERE NOT EXISTS (
        WITH RECURSIVE up(id) AS (
            SELECT x.parent_txn_id WHERE x.parent_txn_id IS NOT NULL
            UNION SELECT p.parent_txn_id FROM up JOIN txn p ON p.txn_id = up.id
                  WHERE p.parent_txn_id IS NOT NULL)
        SELECT 1 FROM up JOIN fork a ON a.txn_id = up.id))
SELECT x.req_msg_id AS msg_id,
       x.req_msg_id || ' '
       || (SELECT group_concat(first_msg_id || coalesce(' ' || ok_msg_id, ''), ' ') FROM resp r
           WHERE r.txn_id = f.txn_id)
       || coalesce(' ' || c.req_msg_id, '') AS evidence,
       x.uac, x.uas, x.cseq_num AS cseq, f.n,
       (SELECT group_concat(s, ', ') FROM (
            SELECT r.to_tag || ' (' || r.statuses || ')' AS s
            FROM resp r WHERE r.txn_id = f.txn_id ORDER BY r.first_us)) AS branches
FROM top f
JOIN t x ON x.txn_id = f.txn_id
LEFT JOIN txn c ON c.txn_id = x.cancel_txn_id
ORDER BY x.req_first_us;
