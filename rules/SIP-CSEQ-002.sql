-- id: SIP-CSEQ-002
-- severity: error
-- title: CSeq number reused for a different request
-- rfc: RFC 3261 §12.2.1.1, RFC 3261 §20.16, RFC 3261 §8.1.1.7, RFC 3261 §22.2
-- impact: The receiver takes the new request for a retransmission (silently absorbed: the request
--   is lost, times out, 408, BYE) or rejects it with 500.
-- message: {sender} {what}; {answer}
-- confidence: high
--
-- Two sources, both per hop (the same logical request has a different branch on every hop,
-- RULES.md G6) and on first copies only (retransmissions G1 and duplicates G2 are one
-- transaction, never two rows):
-- 1. In a dialog: R(D, side, hop) as in SIP-CSEQ-001 (the transactions of dialog D from one
--    side, without ACK and CANCEL, which reuse the INVITE's number by design).  Two
--    transactions with the same number are a different method or a new branch: the later
--    one fires, paired with the first one that used the number.
-- 2. Out of a dialog: a request resubmitted after a 401/407 on the same hop with the same
--    Call-ID, From tag, method and CSeq (RFC 3261 §22.2, §8.1.3.5: the resubmission must
--    increment CSeq).  REGISTER is left to SIP-CSEQ-010 (REGISTER numbering per Call-ID).
-- A resubmission after 401/407 with the same number gets its own sentence in both sources.
-- RFC 3263 §4.3 failover (the identical request re-sent to the next server after 503, a
-- transport error or no answer) goes to another address, i.e. another hop, and is never
-- compared.  PRACK and UPDATE are ordinary rows (they take new numbers).  Other
-- out-of-dialog reuse (outside a challenge) is not reported: out-of-dialog CSeq is arbitrary.
-- One fault, one finding: an in-dialog request whose number is also below one the side used
-- before on that hop is SIP-CSEQ-001's (it takes over: the counter went back, and meeting an
-- old number on the way down is a consequence); and a proxy relays the request unchanged, so
-- a row whose parent transaction (txn.parent_txn_id, previous hop) is itself a row is left
-- out: the finding stays on the hop next to the sender (RULES.md A.9.4).
WITH dtx AS (   -- (dialog, transaction) pairs; only the dialogs where a CSEQ rule can fire (prelude)
    SELECT dialog_id, txn_id FROM cseq_dialog_txn
), r AS (
    SELECT d.dialog_id, t.txn_id, t.parent_txn_id, t.uac_side AS side, t.uac, t.uas, t.method, t.in_dialog,
           t.cseq_num, t.req_msg_id, t.final_status, t.final_msg_id,
           first_value(t.txn_id) OVER w AS first_txn,
           row_number() OVER w AS nth,
           max(t.cseq_num) OVER w2 AS prev_max
    FROM dtx d JOIN t ON t.txn_id = d.txn_id
    WHERE t.kind IN ('INVITE', 'NONINVITE') AND t.method NOT IN ('ACK', 'CANCEL')
      AND t.cseq_num IS NOT NULL AND t.uac_side IN ('caller', 'callee')
    WINDOW w AS (PARTITION BY d.dialog_id, t.uac_side, min(t.uac, t.uas), max(t.uac, t.uas), t.transport,
                              t.cseq_num
                 ORDER BY t.req_first_us, t.req_msg_id),
           w2 AS (PARTITION BY d.dialog_id, t.uac_side, min(t.uac, t.uas), max(t.uac, t.uas), t.transport
                  ORDER BY t.req_first_us, t.req_msg_id
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), challenged AS (   -- the partitions of ood below that hold a 401/407: only there can a row fire
    SELECT DISTINCT call_id, from_tag, method, cseq_num, uac, uas, transport FROM t
    WHERE final_status IN (401, 407)
      AND in_dialog = 0 AND kind IN ('INVITE', 'NONINVITE') AND method <> 'REGISTER'
      AND cseq_num IS NOT NULL
), ood AS (
    SELECT t.txn_id, t.parent_txn_id, t.uac_side AS side, t.uac, t.uas, t.method, t.in_dialog, t.cseq_num,
           t.req_msg_id, t.final_status, t.final_msg_id, t.dialog_id,
           lag(t.txn_id) OVER w AS first_txn,
           lag(t.final_status) OVER w AS first_status
    FROM challenged c
    JOIN t ON t.call_id IS c.call_id AND t.from_tag IS c.from_tag AND t.method IS c.method
          AND t.cseq_num IS c.cseq_num AND t.uac IS c.uac AND t.uas IS c.uas AND t.transport IS c.transport
    WHERE t.in_dialog = 0 AND t.kind IN ('INVITE', 'NONINVITE') AND t.method <> 'REGISTER'
      AND t.cseq_num IS NOT NULL
    WINDOW w AS (PARTITION BY t.call_id, t.from_tag, t.method, t.cseq_num, t.uac, t.uas, t.transport
                 ORDER BY t.req_first_us, t.req_msg_id)
), pair AS (
    SELECT txn_id, parent_txn_id, dialog_id, side, uac, uas, method, in_dialog, cseq_num, req_msg_id,
           final_status, final_msg_id, first_txn
    FROM r WHERE nth > 1 AND in_dialog = 1 AND NOT (prev_max > cseq_num)
    UNION ALL
    SELECT txn_id, parent_txn_id, dialog_id, side, uac, uas, method, in_dialog, cseq_num, req_msg_id,
           final_status, final_msg_id, first_txn
    FROM ood WHERE first_txn IS NOT NULL AND first_status IN (401, 407)
)
SELECT p.req_msg_id AS msg_id,
       a.req_msg_id || coalesce(' ' || a.final_msg_id, '') || ' ' || p.req_msg_id
           || coalesce(' ' || p.final_msg_id, '') AS evidence,
       p.dialog_id,
       p.uac || ' (' || p.side || ')' AS sender,
       p.uas AS receiver,
       p.cseq_num AS cseq,
       CASE
           WHEN a.final_status IN (401, 407) AND a.method = p.method THEN
               'resubmitted its ' || CASE WHEN p.method = 'INVITE' AND p.in_dialog = 1 THEN 're-INVITE'
                                          ELSE p.method END
               || ' to ' || p.uas || ' with credentials after the ' || a.final_status || ' challenge without incrementing CSeq (still '
               || p.cseq_num || ', new branch ' || p_m.top_branch || ')'
           ELSE
               'sent ' || CASE WHEN p.method = 'INVITE' AND p.in_dialog = 1 THEN 're-INVITE' ELSE p.method END
               || ' with CSeq ' || p.cseq_num || ' (branch ' || p_m.top_branch || ') to ' || p.uas || ', the number its earlier '
               || CASE WHEN a.method = 'INVITE' AND a.in_dialog = 1 THEN 're-INVITE' ELSE a.method END
               || ' (branch ' || a.branch || ') already used in this dialog'
       END AS what,
       CASE WHEN p.final_status IS NULL THEN p.uas || ' sent no final response in the capture'
            ELSE p.uas || ' answered it ' || p.final_status || ' ' || coalesce(f.reason, '') END AS answer
FROM pair p
JOIN t a ON a.txn_id = p.first_txn
JOIN m p_m ON p_m.msg_id = p.req_msg_id
LEFT JOIN m f ON f.msg_id = p.final_msg_id
WHERE NOT EXISTS (SELECT 1 FROM pair u WHERE u.txn_id = p.parent_txn_id)
ORDER BY p.req_msg_id;
