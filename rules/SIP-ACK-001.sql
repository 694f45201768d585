-- id: SIP-ACK-001
-- severity: error
-- title: 2xx to INVITE never ACKed (missing ACK)
-- rfc: RFC 3261 §13.2.2.4, RFC 3261 §13.3.1.4, RFC 3261 §14.2, RFC 6026 §8.1
-- impact: The call drops about 32 s after answer (the classic "drops after 30 seconds" ticket): the
--   answering side retransmits its 2xx, gives up after 64*T1 and ends the session with BYE.
-- message: {uac} did not ACK the {status} {reason} (To tag {to_tag}) that {uas} sent to its {what}
--   (CSeq {cseq}) within 64*T1 (T1 = {t1_ms} ms){more}
-- inconclusive: {uac} had not ACKed the {status} {reason} (To tag {to_tag}) that {uas} sent to its
--   {what} (CSeq {cseq}) when the capture ended {seen_s} s after it, before the 64*T1 deadline
--   (T1 = {t1_ms} ms){copies_note}
-- confidence: high
--
-- For every INVITE transaction (initial or re-INVITE, per hop) and every To tag T of its 2xx:
-- the dialog D is the transaction's own for a re-INVITE, else (Call-ID, From tag, T).  The 2xx
-- is ACKed when an ACK2XX transaction of D with the INVITE's CSeq number left the INVITE's UAC
-- or reached the INVITE's UAS (ip:port) no later than first 2xx(T) + 64*T1 + tol.  Accepting
-- an ACK from the UAC on any hop covers an ACK that travels another path than the INVITE (no
-- Record-Route: RULES.md G6); accepting one that reached the UAS covers the hops further
-- down.  An ACK seen upstream of a proxy but not on the hop to the UAS still fires on that
-- last hop (the ACK was lost in the middle).  The 2xx copies (txn_response.copies: the
-- answering side kept waiting) and the first BYE of D after the 2xx are named and given as
-- evidence; the missing ACK alone is the trigger (G8: over TCP the 2xx is retransmitted too,
-- but copies are not required).
-- Not reported here: an INVITE whose 2xx came with >= 2 To tags, or whose upstream copy (a
-- parent_txn_id ancestor) did and lacks the ACK there too: SIP-FORK-001 owns those.
-- Info, not error: when the UAC itself ended the dialog with a BYE that got a 2xx before the
-- deadline, the missing ACK (often an ACK lost on the way, e.g. SIPp -lost in the load test)
-- dropped nothing: the finding stays, as info, and is conclusive whatever the coverage.
-- G3: when no ACK was seen and the capture of that input ends before the deadline, the row is
-- inconclusive.  G1/G2: txn_response counts distinct 2xx only; copies are retransmissions.
WITH ok AS (
    SELECT r.txn_id, r.to_tag, min(r.first_us) AS first_us, min(r.first_msg_id) AS first_msg_id,
           sum(r.copies) AS copies
    FROM txn x JOIN txn_response r ON r.txn_id = x.txn_id AND r.status BETWEEN 200 AND 299
    WHERE x.kind = 'INVITE'
    GROUP BY r.txn_id, r.to_tag),
cand AS NOT MATERIALIZED (   -- every 2xx To tag with its INVITE, its dialog (the lowest id with
              -- those tags: a replayed call reuses them) and its deadline.  Read in the loop of
              -- unacked: stored first, its ~10k rows (100k messages) cost 15% of the rule
    SELECT ok.*, x.uac_side,
           CASE WHEN x.in_dialog = 1 AND x.dialog_id IS NOT NULL THEN x.dialog_id
                ELSE (SELECT d.dialog_id FROM dialog d
                      WHERE d.call_id = x.call_id AND d.caller_tag = x.from_tag AND d.callee_tag = ok.to_tag
                      ORDER BY d.dialog_id LIMIT 1)
           END AS dialog_id,
           ok.first_us + 64 * :t1_us + :tol_us AS deadline,
           x.cseq_num, x.uac_ip, x.uac_port, x.uas_ip, x.uas_port, x.transport
    FROM ok JOIN txn x ON x.txn_id = ok.txn_id),
unacked AS (   -- no ACK by the deadline (a 2xx left without an ACK at all has ack_us NULL)
    SELECT c.txn_id, c.to_tag, c.first_us, c.first_msg_id, c.copies,
           (SELECT count(DISTINCT r.to_tag) FROM txn_response r      -- its 2xx To tags: rows of ok
            WHERE r.txn_id = c.txn_id AND r.status BETWEEN 200 AND 299) AS n,
           c.uac_side, c.dialog_id, c.deadline,
           (SELECT min(a.req_first_us) FROM txn a
            WHERE a.dialog_id = c.dialog_id AND a.kind = 'ACK2XX' AND a.cseq_num = c.cseq_num
              AND ((a.uac_ip = c.uac_ip AND a.uac_port = c.uac_port AND a.transport = c.transport)
                   OR (a.uas_ip = c.uas_ip AND a.uas_port = c.uas_port AND a.transport = c.transport)))
               AS ack_us
    FROM cand c
    WHERE NOT EXISTS (
        SELECT 1 FROM txn a
        WHERE a.dialog_id = c.dialog_id AND a.kind = 'ACK2XX' AND a.cseq_num = c.cseq_num
          AND ((a.uac_ip = c.uac_ip AND a.uac_port = c.uac_port AND a.transport = c.transport)
               OR (a.uas_ip = c.uas_ip AND a.uas_port = c.uas_port AND a.transport = c.transport))
          AND a.req_first_us <= c.deadline)),
anc(txn_id, anc_id) AS (
    SELECT u.txn_id, x.parent_txn_id FROM unacked u JOIN txn x ON x.txn_id = u.txn_id
    WHERE x.parent_txn_id IS NOT NULL
    UNION
    SELECT anc.txn_id, p.parent_txn_id FROM anc JOIN txn p ON p.txn_id = anc.anc_id
    WHERE p.parent_txn_id IS NOT NULL),
hit0 AS (
    SELECT u.*,
           (SELECT b.req_msg_id FROM txn b
            WHERE b.dialog_id = u.dialog_id AND b.kind = 'NONINVITE' AND b.method = 'BYE'
              AND b.req_first_us >= u.first_us
            ORDER BY b.req_first_us LIMIT 1) AS bye_msg_id
    FROM unacked u
    WHERE u.n = 1
      AND NOT EXISTS (SELECT 1 FROM anc JOIN unacked f ON f.txn_id = anc.anc_id AND f.to_tag = u.to_tag
                      WHERE anc.txn_id = u.txn_id AND f.n >= 2)),
hit AS (   -- ended: the UAC itself ended the dialog (BYE answered 2xx) before the deadline
    SELECT h.*, coalesce(bt.uac_side = x.uac_side AND bt.final_status BETWEEN 200 AND 299
                         AND bt.req_first_us <= h.deadline, 0) AS ended
    FROM hit0 h JOIN txn x ON x.txn_id = h.txn_id
    LEFT JOIN message bm ON bm.msg_id = h.bye_msg_id
    LEFT JOIN txn bt ON bt.txn_id = bm.txn_id)
SELECT h.first_msg_id AS msg_id,
       x.req_msg_id || ' ' || h.first_msg_id || coalesce(' ' || h.bye_msg_id, '') AS evidence,
       h.dialog_id,
       x.uac, x.uas, x.cseq_num AS cseq, r.status, r.reason, h.to_tag,
       CASE WHEN x.in_dialog = 1 THEN 're-INVITE' ELSE 'INVITE' END AS what,
       CASE WHEN h.ended THEN 'info' ELSE 'error' END AS severity,
       CASE WHEN h.ack_us IS NULL AND cv.end_us < h.deadline AND NOT h.ended THEN 1 ELSE 0 END AS inconclusive,
       printf('%.1f', (cv.end_us - h.first_us) / 1e6) AS seen_s,
       CASE WHEN h.copies > 1 THEN printf('; the %d was sent %d times so far', r.status, h.copies)
            ELSE '' END AS copies_note,
       CASE WHEN h.ack_us IS NOT NULL
                 THEN printf('; the ACK came only %.1f s after it', (h.ack_us - h.first_us) / 1e6)
            ELSE '' END
       || CASE WHEN h.copies > 1 THEN printf('; the %d was sent %d times', r.status, h.copies) ELSE '' END
       || CASE WHEN bm.msg_id IS NULL THEN ''
               WHEN h.ended
                    THEN printf('; %s ended the dialog itself with BYE %.1f s after the first %d, so the call did'
                                || ' not drop', bm.src, (bm.ts_us - h.first_us) / 1e6, r.status)
               ELSE printf('; %s ended the dialog with BYE %.1f s after the first %d', bm.src,
                           (bm.ts_us - h.first_us) / 1e6, r.status) END AS more
FROM hit h
JOIN t x ON x.txn_id = h.txn_id
JOIN m r ON r.msg_id = h.first_msg_id
JOIN coverage cv ON cv.capture_id = x.capture_id
LEFT JOIN m bm ON bm.msg_id = h.bye_msg_id
ORDER BY h.first_us;
