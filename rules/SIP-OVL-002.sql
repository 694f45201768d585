-- id: SIP-OVL-002
-- severity: error
-- title: New INVITE while the same UA still owes a final response (server side) to the peer's
--   INVITE
-- rfc: RFC 3261 §14.1, RFC 3261 §17.2.1, RFC 5407 §3.1.4
-- impact: State confusion: the peer answers 491 or 500, the session change is lost and the
--   exchange may turn into a glare loop.
-- message: The {side} {sender} sent a re-INVITE (CSeq {cseq}) while it still owed a final
--   response to the {peer}'s INVITE (CSeq {x_cseq}), which it had {proof}
-- confidence: high
--
-- RULES.md B.4 SIP-OVL-002, server-pending interval SP(s) of A.5: an INVITE X received by side s
-- is pending from its arrival until s sends the final response; after a non-2xx final, until
-- the ACK arrives (the server transaction is Confirmed, RFC 3261 §14.1 item 2), or Timer H
-- (64*T1) without an ACK.  After a 2xx it ends at once: a re-INVITE sent after the 2xx and
-- before its ACK is a race to be answered normally (RFC 5407 §3.1.4, RFC 6141 §5.5), not a fault.
-- Causal proof that s knew X when it sent Y (otherwise it is true glare, two INVITEs crossing
-- on the wire: SIP-OVL-003's domain, no fault of either UA): s had already sent a response to X
-- (100 Trying included) before Y, or X arrived at least tol (G5) before Y.
-- X may be the dialog-creating INVITE (a callee that sends a re-INVITE on the early dialog
-- before answering the initial INVITE).  Per hop: Y is taken where it was first seen (no parent
-- transaction, the hop nearest s) and X where it was last seen (no child transaction, also the
-- hop nearest s): one finding per Y through a proxy (G6).  Retransmissions are one
-- transaction (G1).  One finding per Y (against the earliest X still owed).
WITH inv AS (
    SELECT t.txn_id, t.dialog_id, uac_side, uac, cseq_num, in_dialog, req_msg_id, req_first_us,
           first_1xx_us, first_final_us, final_status, final_msg_id, ack_msg_id, parent_txn_id,
           CASE WHEN final_status IS NULL THEN 9223372036854775807
                WHEN final_status < 300 THEN first_final_us
                ELSE coalesce(ack_us, first_final_us + 64 * :t1_us) END AS sp_end
    FROM (SELECT DISTINCT dialog_id FROM txn   -- dialogs with an in-dialog INVITE: only there can
          WHERE kind = 'INVITE' AND in_dialog = 1 AND dialog_id IS NOT NULL) d   -- INVITEs overlap
    CROSS JOIN t ON t.dialog_id = d.dialog_id
    WHERE t.kind = 'INVITE'
    ORDER BY t.txn_id
),
pair AS (
    SELECT y.txn_id AS y_txn, x.txn_id AS x_txn,
           row_number() OVER (PARTITION BY y.txn_id ORDER BY x.req_first_us) AS n
    FROM inv y
    JOIN inv x ON x.dialog_id = y.dialog_id AND x.uac_side <> y.uac_side
    WHERE y.in_dialog = 1 AND y.parent_txn_id IS NULL
      AND x.req_first_us < y.req_first_us
      AND x.sp_end > y.req_first_us
      AND (x.first_1xx_us < y.req_first_us OR x.first_final_us < y.req_first_us
           OR x.req_first_us <= y.req_first_us - :tol_us)
      AND NOT EXISTS (SELECT 1 FROM txn c
                      WHERE c.dialog_id = x.dialog_id AND c.kind = 'INVITE'
                        AND c.cseq_num = x.cseq_num AND c.parent_txn_id = x.txn_id)
)
SELECT y.req_msg_id AS msg_id,
       y.dialog_id AS dialog_id,
       trim(x.req_msg_id || ' ' ||
            coalesce((SELECT group_concat(r.first_msg_id, ' ') FROM txn_response r
                      WHERE r.txn_id = x.txn_id AND r.first_us < y.req_first_us), '') || ' ' ||
            y.req_msg_id || ' ' || coalesce(y.final_msg_id, '') || ' ' ||
            coalesce(x.final_msg_id, '') || ' ' || coalesce(x.ack_msg_id, '')) AS evidence,
       y.uac_side AS side,
       CASE y.uac_side WHEN 'caller' THEN 'callee' ELSE 'caller' END AS peer,
       y.uac AS sender,
       y.cseq_num AS cseq,
       x.cseq_num AS x_cseq,
       CASE WHEN x.first_final_us < y.req_first_us
                 THEN 'answered ' || x.final_status || ' ' ||
                      ((y.req_first_us - x.first_final_us) / 1000) ||
                      ' ms earlier but whose ACK had not come'
            WHEN x.first_1xx_us < y.req_first_us
                 THEN 'received ' || ((y.req_first_us - x.req_first_us) / 1000) ||
                      ' ms earlier and answered with a provisional response'
            ELSE 'received ' || ((y.req_first_us - x.req_first_us) / 1000) || ' ms earlier'
       END AS proof
FROM pair p
JOIN inv y ON y.txn_id = p.y_txn
JOIN inv x ON x.txn_id = p.x_txn
WHERE p.n = 1
ORDER BY y.req_msg_id;
