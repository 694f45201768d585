-- id: SIP-FORK-001
-- severity: error
-- title: A 2xx of a forked INVITE was never ACKed
-- rfc: RFC 3261 §13.2.2.4, RFC 3261 §13.3.1.4, RFC 6026 §8.4
-- impact: The callee of that branch sees the call answered, then dropped about 32 s later; billing
--   and CDRs show a short answered call.
-- message: {uac} did not ACK the {status} {reason} with To tag {to_tag} that {uas} forwarded for its
--   forked INVITE (CSeq {cseq}, 2xx with {n} different To tags) within 64*T1 (T1 = {t1_ms} ms){more}
-- inconclusive: {uac} had not ACKed the {status} {reason} with To tag {to_tag} that {uas} forwarded
--   for its forked INVITE (CSeq {cseq}, 2xx with {n} different To tags) when the capture ended
--   {seen_s} s after it, before the 64*T1 deadline (T1 = {t1_ms} ms)
-- confidence: high
--
-- An INVITE transaction (per hop) whose 2xx responses carry >= 2 distinct To tags; for each tag
-- T, the dialog (Call-ID, From tag, T) needs an ACK2XX transaction with the INVITE's CSeq
-- number, sent by the INVITE's UAC (ip:port, on any hop: the ACK of dialog T may follow
-- another route set than the INVITE, RULES.md G6) or delivered to the INVITE's UAS, no later
-- than first 2xx(T) + 64*T1 + tol.  Same test as SIP-ACK-001, which leaves these INVITEs (and
-- their downstream hops) to this rule.
-- Reported once, at the topmost hop that shows the fork: a transaction with an ancestor
-- (parent_txn_id chain) that also got 2xx with >= 2 tags is skipped.
-- Info, not error: when the UAC itself ended the dialog with a BYE that got a 2xx before the
-- deadline, the missing ACK (often an ACK lost on the way, e.g. SIPp -lost in the load test)
-- dropped nothing: the finding stays, as info, and is conclusive whatever the coverage.
-- Severity: warning when 2xx(T) arrived more than 64*T1 after the transaction's first 2xx
-- (the UAC core no longer expects 2xx then, RFC 3261 §13.2.2.4; the client transaction has
-- left Accepted, RFC 6026 §8.4).  G3: no ACK seen and the capture ends before the deadline:
-- inconclusive.  Evidence: the INVITE, every tag's first 2xx, the ACKs of the other tags and
-- the first BYE of dialog T after its 2xx.
WITH ok AS (   -- only the transactions of fork_txn (rules/prelude.sql) can have two 2xx tags
    SELECT r.txn_id, r.to_tag, min(r.first_us) AS first_us, min(r.first_msg_id) AS first_msg_id,
           sum(r.copies) AS copies
    FROM fork_txn f JOIN txn x ON x.txn_id = f.txn_id
    JOIN txn_response r ON r.txn_id = x.txn_id AND r.status BETWEEN 200 AND 299
    WHERE x.kind = 'INVITE'
    GROUP BY r.txn_id, r.to_tag),
ntag AS (
    SELECT txn_id, count(*) AS n, min(first_us) AS x_first_us FROM ok GROUP BY txn_id HAVING count(*) >= 2),
cand AS (
    SELECT ok.*, ntag.n, ntag.x_first_us,
           (SELECT d.dialog_id FROM dialog d
            WHERE d.call_id = x.call_id AND d.caller_tag = x.from_tag AND d.callee_tag = ok.to_tag)
               AS dialog_id,
           ok.first_us + 64 * :t1_us + :tol_us AS deadline
    FROM ok JOIN ntag USING (txn_id) JOIN txn x ON x.txn_id = ok.txn_id
    WHERE NOT EXISTS (
        WITH RECURSIVE up(id) AS (
            SELECT x.parent_txn_id WHERE x.parent_txn_id IS NOT NULL
            UNION SELECT p.parent_txn_id FROM up JOIN txn p ON p.txn_id = up.id
                  WHERE p.parent_txn_id IS NOT NULL)
        SELECT 1 FROM up JOIN ntag a ON a.txn_id = up.id)),
acks AS (   -- every ACK of every answered tag, for the test and for the evidence
    SELECT c.txn_id, c.to_tag, a.req_first_us AS ack_us, a.req_msg_id
    FROM cand c
    JOIN txn x ON x.txn_id = c.txn_id
    JOIN txn a ON a.dialog_id = c.dialog_id AND a.kind = 'ACK2XX' AND a.cseq_num = x.cseq_num
    WHERE (a.uac_ip = x.uac_ip AND a.uac_port = x.uac_port AND a.transport = x.transport)
       OR (a.uas_ip = x.uas_ip AND a.uas_port = x.uas_port AND a.transport = x.transport)),
hit0 AS (
    SELECT c.*,
           (SELECT min(k.ack_us) FROM acks k WHERE k.txn_id = c.txn_id AND k.to_tag = c.to_tag) AS ack_us,
           (SELECT b.req_msg_id FROM txn b
            WHERE b.dialog_id = c.dialog_id AND b.kind = 'NONINVITE' AND b.method = 'BYE'
              AND b.req_first_us >= c.first_us
            ORDER BY b.req_first_us LIMIT 1) AS bye_msg_id
    FROM cand c),
hit AS (   -- ended: the UAC itself ended the dialog (BYE answered 2xx) before the deadline
    SELECT h.*, coalesce(bt.uac_side = x.uac_side AND bt.final_status BETWEEN 200 AND 299
                         AND bt.req_first_us <= h.deadline, 0) AS ended
    FROM hit0 h JOIN txn x ON x.txn_id = h.txn_id
    LEFT JOIN message bm ON bm.msg_id = h.bye_msg_id
    LEFT JOIN txn bt ON bt.txn_id = bm.txn_id)
SELECT h.first_msg_id AS msg_id,
       x.req_msg_id
       || ' ' || (SELECT group_concat(o.first_msg_id, ' ') FROM ok o WHERE o.txn_id = h.txn_id)
       || coalesce(' ' || (SELECT group_concat(k.req_msg_id, ' ') FROM acks k
                           WHERE k.txn_id = h.txn_id AND k.to_tag <> h.to_tag), '')
       || coalesce(' ' || h.bye_msg_id, '') AS evidence,
       h.dialog_id,
       x.uac, x.uas, x.cseq_num AS cseq, r.status, r.reason, h.to_tag, h.n,
       CASE WHEN h.ended THEN 'info'
            WHEN h.first_us > h.x_first_us + 64 * :t1_us THEN 'warning' ELSE 'error' END AS severity,
       CASE WHEN h.ack_us IS NULL AND cv.end_us < h.deadline AND NOT h.ended THEN 1 ELSE 0 END AS inconclusive,
       printf('%.1f', (cv.end_us - h.first_us) / 1e6) AS seen_s,
       CASE WHEN h.ack_us IS NOT NULL
                 THEN printf('; the ACK came only %.1f s after it', (h.ack_us - h.first_us) / 1e6)
            ELSE '' END
       || CASE WHEN h.first_us > h.x_first_us + 64 * :t1_us
                 THEN printf(' (this 2xx came %.1f s after the first one, when the caller no longer'
                             || ' expected 2xx)',
                             (h.first_us - h.x_first_us) / 1e6)
            ELSE '' END
       || CASE WHEN h.copies > 1 THEN printf('; the %d was sent %d times', r.status, h.copies) ELSE '' END
       || CASE WHEN bm.msg_id IS NULL THEN ''
               WHEN h.ended
                    THEN printf('; %s ended that dialog itself with BYE %.1f s after the first %d, so the call did'
                                || ' not drop', bm.src, (bm.ts_us - h.first_us) / 1e6, r.status)
               ELSE printf('; %s ended that dialog with BYE %.1f s after the first %d', bm.src,
                           (bm.ts_us - h.first_us) / 1e6, r.status) END AS more
FROM hit h
JOIN t x ON x.txn_id = h.txn_id
JOIN m r ON r.msg_id = h.first_msg_id
JOIN coverage cv ON cv.capture_id = x.capture_id
LEFT JOIN m bm ON bm.msg_id = h.bye_msg_id
WHERE h.ack_us IS NULL OR h.ack_us > h.deadline
ORDER BY h.first_us;
