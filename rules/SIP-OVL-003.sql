-- id: SIP-OVL-003
-- severity: error
-- title: Glare not answered with 491
-- rfc: RFC 3261 §14.2, RFC 3261 §21.4.27, RFC 6141 §3.5
-- impact: Both INVITEs may succeed with conflicting offers (wrong media direction, one-way
--   audio), or the UA rejects with another code and the peer gives up instead of retrying.
-- message: The {side} {responder} answered the {peer}'s re-INVITE (CSeq {cseq}) with {status}
--   {reason} instead of 491 Request Pending, while its own INVITE (CSeq {x_cseq}) was still
--   pending ({x_state})
-- confidence: high
--
-- RULES.md B.4 SIP-OVL-003 (glare): side s receives the peer's in-dialog INVITE Y while an INVITE
-- X that s sent in the same dialog is client-pending (A.5: sent, no final yet; without a final
-- it ends at Timer B, 64*T1), and s's final response to Y is not 491.
-- X counts as pending when Y arrived if X was sent before Y arrived and X's final came more than
-- tol (G5) after Y, or came after s had already answered Y (then s decided on Y while X was
-- open, whatever the timing).  A final of X that reached s within tol of Y is the boundary race
-- of RULES.md and is not held against s.  If s sent X only after Y had arrived, s is the one that
-- started an INVITE while owing a final (SIP-OVL-002), not this rule.
-- Not reported: answers of the general request processing that RFC 3261 §8.2 puts before any
-- method-specific handling such as §14.2 (400, 405, 413-416, 420, 421, 481, authentication
-- 401/407, and what a proxy or an overloaded server sends to any request: 408, 482, 483, 503,
-- 504, 513): those reject Y for another reason and are other rules' business.  500 stays
-- reported (some stacks answer glare with 500 instead of 491, RULES.md SIP-DLG-005).
-- Not reported either: Y without any final (other rules), and 500 with Retry-After 0-10 s when
-- s was at the same time server-pending on an earlier INVITE of the peer with a lower CSeq: that
-- overlap asks for exactly this answer (RFC 3261 §14.2, SIP-OVL-004).  UPDATE glare is the UPDATE
-- rules' domain.  Per hop: Y where it was last seen (no child transaction, the hop nearest s),
-- X where it was first seen (no parent, also nearest s): one finding through a proxy (G6).
WITH inv AS (
    SELECT t.txn_id, t.dialog_id, uac_side, uac, uas, cseq_num, in_dialog, req_msg_id, req_first_us,
           first_final_us, final_status, final_msg_id, parent_txn_id
    FROM (SELECT DISTINCT dialog_id FROM txn   -- dialogs with an in-dialog INVITE: only there can
          WHERE kind = 'INVITE' AND in_dialog = 1 AND dialog_id IS NOT NULL) d   -- INVITEs overlap
    CROSS JOIN t ON t.dialog_id = d.dialog_id
    WHERE t.kind = 'INVITE'
    ORDER BY t.txn_id
),
pair AS (
    SELECT y.txn_id AS y_txn, x.txn_id AS x_txn,
           row_number() OVER (PARTITION BY y.txn_id ORDER BY x.req_first_us DESC) AS n
    FROM inv y
    JOIN inv x ON x.dialog_id = y.dialog_id AND x.uac_side <> y.uac_side
    WHERE y.in_dialog = 1 AND y.final_status IS NOT NULL AND y.final_status <> 491
      AND y.final_status NOT IN (400, 401, 405, 407, 408, 413, 414, 415, 416, 420, 421, 481, 482,
                                 483, 503, 504, 513)
      AND x.parent_txn_id IS NULL
      AND x.req_first_us < y.req_first_us
      AND (x.first_final_us > y.req_first_us + :tol_us
           OR x.first_final_us > y.first_final_us
           OR (x.first_final_us IS NULL AND x.req_first_us + 64 * :t1_us > y.req_first_us))
      AND NOT EXISTS (SELECT 1 FROM txn c
                      WHERE c.dialog_id = y.dialog_id AND c.kind = 'INVITE'
                        AND c.cseq_num = y.cseq_num AND c.parent_txn_id = y.txn_id)
)
SELECT y.final_msg_id AS msg_id,
       y.dialog_id AS dialog_id,
       x.req_msg_id || ' ' || y.req_msg_id || ' ' || y.final_msg_id || ' ' ||
           coalesce(x.final_msg_id, '') AS evidence,
       CASE y.uac_side WHEN 'caller' THEN 'callee' ELSE 'caller' END AS side,
       y.uac_side AS peer,
       y.uas AS responder,
       y.cseq_num AS cseq,
       y.final_status AS status,
       (SELECT reason FROM message WHERE msg_id = y.final_msg_id) AS reason,
       x.cseq_num AS x_cseq,
       'sent ' || printf('%.1f', (y.req_first_us - x.req_first_us) / 1000.0) || ' ms before it, ' ||
           CASE WHEN x.first_final_us IS NULL THEN 'no final response seen'
                WHEN x.first_final_us > y.first_final_us
                     THEN 'its ' || x.final_status || ' came only after this answer'
                ELSE 'its ' || x.final_status || ' came ' ||
                     printf('%.1f', (x.first_final_us - y.req_first_us) / 1000.0) || ' ms after it'
           END AS x_state
FROM pair p
JOIN inv y ON y.txn_id = p.y_txn
JOIN inv x ON x.txn_id = p.x_txn
WHERE p.n = 1
  AND NOT (y.final_status = 500
           AND coalesce((SELECT retry_after FROM message WHERE msg_id = y.final_msg_id), -1)
               BETWEEN 0 AND 10
           AND EXISTS (SELECT 1 FROM inv w
                       WHERE w.dialog_id = y.dialog_id AND w.uac_side = y.uac_side
                         AND w.cseq_num < y.cseq_num AND w.req_first_us < y.req_first_us
                         AND (w.first_final_us IS NULL OR w.first_final_us > y.req_first_us)))
ORDER BY y.req_msg_id;
