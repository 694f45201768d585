-- id: SIP-OVL-004
-- severity: error
-- title: Second INVITE before the final response to the first: 500 + Retry-After 0-10 s missing
-- rfc: RFC 3261 §14.2, RFC 3261 §21.5.1, RFC 3261 §20.33
-- impact: The UAC cannot tell that it should retry, or when: the session change is lost, or two
--   offers are applied in the wrong order; some UAs tear the call down.
-- message: The {side} {responder} answered the {peer}'s re-INVITE (CSeq {cseq}) with {answer}
--   while it had not yet sent the final response to the {peer}'s INVITE (CSeq {x_cseq}) received
--   {gap_ms} ms earlier; RFC 3261 §14.2 requires 500 with Retry-After 0-10 s
-- confidence: high
--
-- RULES.md B.4 SIP-OVL-004: side s has received INVITE X (lower CSeq) from the peer and not yet
-- sent X's final response when INVITE Y (higher CSeq, same direction, same dialog) arrives; s's
-- final response to Y must be 500 with a Retry-After of 0 to 10 seconds.  X still open when Y
-- arrived: X's final went out more than tol (G5) after Y arrived, or only after s had answered
-- Y, or never.  X may be the dialog-creating INVITE (a re-INVITE on the early dialog).
-- Reported: any other final (200, 491 outside glare, 500 without Retry-After, Retry-After above
-- 10).  A lone 500 without Retry-After outside this overlap is SIP-DLG-005's (that rule leaves
-- the overlap case to this one, so the fault is reported once).
-- Not reported: answers of the general request processing that RFC 3261 §8.2 puts before any
-- method-specific handling such as §14.2 (400, 405, 413-416, 420, 421, 481, authentication
-- 401/407, and what a proxy or an overloaded server sends to any request: 408, 482, 483, 503,
-- 504, 513): Y was rejected for another reason.  Y without a final (other rules); 491 when s
-- also had its own INVITE pending (glare: SIP-OVL-003 asks for 491 then); Y a retransmission of
-- X (one transaction, G1) or a resubmission after s challenged X (X is then completed).
-- Per hop: X and Y where they were last seen (no child transaction, the hop nearest s): one
-- finding through a proxy (G6).
-- The UAC that sent Y while X was pending is reported by SIP-OVL-001.
WITH inv AS (
    SELECT t.txn_id, t.dialog_id, uac_side, uac, uas, cseq_num, in_dialog, req_msg_id, req_first_us,
           first_final_us, final_status, final_msg_id, parent_txn_id
    FROM (SELECT DISTINCT dialog_id FROM txn   -- dialogs with an in-dialog INVITE: only there can
          WHERE kind = 'INVITE' AND in_dialog = 1 AND dialog_id IS NOT NULL) d   -- INVITEs overlap
    CROSS JOIN t ON t.dialog_id = d.dialog_id
    WHERE t.kind = 'INVITE'
    ORDER BY t.txn_id
),
recv AS (       -- INVITEs where they were last seen: the hop nearest their receiver
    SELECT i.* FROM inv i
    WHERE NOT EXISTS (SELECT 1 FROM txn c
                      WHERE c.dialog_id = i.dialog_id AND c.kind = 'INVITE'
                        AND c.cseq_num = i.cseq_num AND c.parent_txn_id = i.txn_id)
),
pair AS (
    SELECT y.txn_id AS y_txn, x.txn_id AS x_txn,
           row_number() OVER (PARTITION BY y.txn_id ORDER BY x.req_first_us) AS n
    FROM recv y
    JOIN recv x ON x.dialog_id = y.dialog_id AND x.uac_side = y.uac_side
    WHERE y.in_dialog = 1 AND y.final_status IS NOT NULL
      AND y.final_status NOT IN (400, 401, 405, 407, 408, 413, 414, 415, 416, 420, 421, 481, 482,
                                 483, 503, 504, 513)
      AND x.cseq_num < y.cseq_num
      AND x.req_first_us < y.req_first_us
      AND (x.first_final_us IS NULL
           OR x.first_final_us > y.req_first_us + :tol_us
           OR x.first_final_us > y.first_final_us)
),
judged AS (
    SELECT p.y_txn, p.x_txn, f.msg_id AS resp_id, f.reason, f.retry_after
    FROM pair p
    JOIN inv y ON y.txn_id = p.y_txn
    JOIN message f ON f.msg_id = y.final_msg_id
    WHERE p.n = 1
      AND NOT (y.final_status = 500 AND coalesce(f.retry_after, -1) BETWEEN 0 AND 10)
)
SELECT j.resp_id AS msg_id,
       y.dialog_id AS dialog_id,
       x.req_msg_id || ' ' || y.req_msg_id || ' ' || j.resp_id || ' ' ||
           coalesce(x.final_msg_id, '') AS evidence,
       CASE y.uac_side WHEN 'caller' THEN 'callee' ELSE 'caller' END AS side,
       y.uac_side AS peer,
       y.uas AS responder,
       y.cseq_num AS cseq,
       x.cseq_num AS x_cseq,
       (y.req_first_us - x.req_first_us) / 1000 AS gap_ms,
       y.final_status || ' ' || coalesce(j.reason, '') ||
           CASE WHEN y.final_status <> 500 THEN ''
                WHEN j.retry_after IS NULL THEN ' without Retry-After'
                ELSE ' with Retry-After ' || j.retry_after || ' (more than 10 s)' END AS answer
FROM judged j
JOIN inv y ON y.txn_id = j.y_txn
JOIN inv x ON x.txn_id = j.x_txn
WHERE NOT (y.final_status = 491
           AND EXISTS (SELECT 1 FROM inv o
                       WHERE o.dialog_id = y.dialog_id AND o.uac_side <> y.uac_side
                         AND o.parent_txn_id IS NULL AND o.req_first_us < y.req_first_us
                         AND coalesce(o.first_final_us, o.req_first_us + 64 * :t1_us)
                             > y.req_first_us))
ORDER BY j.resp_id;
