-- id: SIP-OVL-001
-- severity: error
-- title: New INVITE while the same UA's previous INVITE (client side) is still pending
-- rfc: RFC 3261 §14.1, RFC 3261 §17.1.1.2, RFC 3263 §4.3
-- impact: The peer rejects the new INVITE with 500 (Retry-After) or 491, or mixes up the two
--   offers; a UA that does not retry loses the session change and some drop the call.
-- message: The {side} {sender} sent a re-INVITE (CSeq {cseq}) while its previous INVITE
--   (CSeq {x_cseq}, sent {gap_ms} ms earlier) still had no final response ({x_state})
-- confidence: high
--
-- RULES.md B.4 SIP-OVL-001, client-pending interval CP(s) of A.5: an INVITE transaction X sent
-- by side s is pending from its request until its first final response (any status; a CANCEL
-- does not end it, RFC 3261 §9.1), or, without a final, until Timer B (64*T1) expires.
-- Y = a later in-dialog INVITE of the same side in the same dialog; it fires when X's final was
-- not seen before Y + tol (the interval shrunk by the tolerance of G5: a final that crossed Y on
-- the wire is not held against s).  X may be the dialog-creating INVITE (a re-INVITE on an
-- early dialog before the initial INVITE got its final is the same fault).
-- Excluded: Y with X's CSeq number (RFC 3263 §4.3 failover: the same request again with a new
-- branch after a timeout or 503); a resubmission after 401/407 needs no exclusion, X is
-- completed by the challenge.  Per hop: X and Y are taken where they were first seen (no
-- parent transaction), i.e. on the hop nearest s, so a dialog seen through a proxy is
-- reported once (G6).  Retransmissions are one transaction (G1).  One finding per Y (against
-- the latest pending X).
-- The peer's answer to Y (SIP-OVL-004) is judged separately: that is the other UA's fault.
WITH inv AS (
    SELECT t.txn_id, t.dialog_id, uac_side, uac, cseq_num, in_dialog, req_msg_id, req_first_us,
           first_final_us, final_status, final_msg_id
    FROM (SELECT DISTINCT dialog_id FROM txn   -- dialogs with an in-dialog INVITE: only there can
          WHERE kind = 'INVITE' AND in_dialog = 1 AND dialog_id IS NOT NULL) d   -- INVITEs overlap
    CROSS JOIN t ON t.dialog_id = d.dialog_id
    WHERE t.kind = 'INVITE' AND t.parent_txn_id IS NULL
    ORDER BY t.txn_id
),
pair AS (
    SELECT y.txn_id AS y_txn, x.txn_id AS x_txn,
           row_number() OVER (PARTITION BY y.txn_id ORDER BY x.req_first_us DESC) AS n
    FROM inv y
    JOIN inv x ON x.dialog_id = y.dialog_id AND x.uac_side = y.uac_side AND x.txn_id <> y.txn_id
    WHERE y.in_dialog = 1
      AND x.req_first_us < y.req_first_us
      AND coalesce(x.first_final_us, x.req_first_us + 64 * :t1_us) > y.req_first_us + :tol_us
      AND x.cseq_num IS NOT y.cseq_num
)
SELECT y.req_msg_id AS msg_id,
       y.dialog_id AS dialog_id,
       trim(x.req_msg_id || ' ' ||
            coalesce((SELECT group_concat(r.first_msg_id, ' ') FROM txn_response r
                      WHERE r.txn_id = x.txn_id AND r.status < 200), '') || ' ' ||
            coalesce(y.final_msg_id, '') || ' ' || coalesce(x.final_msg_id, '')) AS evidence,
       y.uac_side AS side,
       y.uac AS sender,
       y.cseq_num AS cseq,
       x.cseq_num AS x_cseq,
       (y.req_first_us - x.req_first_us) / 1000 AS gap_ms,
       CASE WHEN x.first_final_us IS NULL THEN 'it never got one'
            ELSE 'its ' || x.final_status || ' came ' ||
                 ((x.first_final_us - y.req_first_us) / 1000) || ' ms later' END AS x_state
FROM pair p
JOIN inv y ON y.txn_id = p.y_txn
JOIN inv x ON x.txn_id = p.x_txn
WHERE p.n = 1
ORDER BY y.req_msg_id;
