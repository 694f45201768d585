-- id: SIP-CSEQ-009
-- severity: warning
-- title: UAS accepted an out-of-order in-dialog request
-- rfc: RFC 3261 §12.2.2
-- impact: A stale request changes the dialog state (an old re-INVITE undoes a newer hold or
--   resume, an old refresh resets a timer) and the two UAs disagree about the session.
-- message: {receiver} accepted {sender}'s {method} (CSeq {cseq}) with {status} {reason}
--   although it had already received {earlier} from that side in this dialog; {rfc_says}
-- confidence: medium
--
-- Same evaluation set as SIP-CSEQ-001: R(D, side, hop), the transactions of dialog D sent by
-- one side on one hop, without ACK and CANCEL, first copies only (G1, G2).  The receiver's
-- remote sequence number is approximated by the highest number among the earlier requests
-- of that side on that hop that the receiver demonstrably got (it answered them with some
-- response): a request lost before the receiver does not raise it.  A row fires when it was
-- answered 2xx and its number is below that, or equal to it (a new transaction, so a new
-- branch or method: pjsip and others reject <=; the sender's side of an equal number is
-- SIP-CSEQ-002).  A 500 (or any non-2xx) answer keeps this rule quiet; SIP-CSEQ-001 names
-- the reaction.  Retransmissions (same branch) are one transaction and never compared.
-- Medium confidence: on a hop away from the receiver the order it saw may differ (RULES.md
-- FP trap), and an equal number is not strictly forbidden to accept by §12.2.2.
-- One fault, one finding (RULES.md A.9.4): the receiver is the UAS at the end of the chain; a
-- proxy in between only relays its 2xx, so a hit whose request a proxy relayed to the next
-- hop where it is a hit again (a child transaction, txn.parent_txn_id) is left out: the
-- finding stays on the hop next to the receiver (irontec__sngrep/ipv6frag.pcap: the BYE
-- accepted by [..:4222]:25060, frames 32 and 33, not again on the caller's hop).
WITH dtx AS (   -- (dialog, transaction) pairs; only the dialogs where a CSEQ rule can fire (prelude)
    SELECT dialog_id, txn_id FROM cseq_dialog_txn
), r AS (
    SELECT d.dialog_id, t.txn_id, t.parent_txn_id, t.uac_side AS side, t.uac, t.uas, t.method, t.in_dialog,
           t.cseq_num, t.req_msg_id, t.final_status, t.final_msg_id,
           max(CASE WHEN t.first_1xx_us IS NOT NULL OR t.first_final_us IS NOT NULL
                    THEN printf('%012d %d', t.cseq_num, t.req_msg_id) END) OVER w AS prev_top
    FROM dtx d JOIN t ON t.txn_id = d.txn_id
    WHERE t.kind IN ('INVITE', 'NONINVITE') AND t.method NOT IN ('ACK', 'CANCEL')
      AND t.cseq_num IS NOT NULL AND t.uac_side IN ('caller', 'callee')
    WINDOW w AS (PARTITION BY d.dialog_id, t.uac_side, min(t.uac, t.uas), max(t.uac, t.uas), t.transport
                 ORDER BY t.req_first_us, t.req_msg_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), hit AS (
    SELECT r.*, CAST(substr(prev_top, 1, 12) AS INTEGER) AS prev_cseq,
           CAST(substr(prev_top, 14) AS INTEGER) AS prev_msg_id
    FROM r WHERE prev_top IS NOT NULL AND r.in_dialog = 1 AND r.final_status BETWEEN 200 AND 299
      AND r.cseq_num <= CAST(substr(prev_top, 1, 12) AS INTEGER)
)
SELECT h.req_msg_id AS msg_id,
       h.prev_msg_id || ' ' || h.req_msg_id || ' ' || h.final_msg_id AS evidence,
       h.dialog_id,
       h.uac || ' (' || h.side || ')' AS sender,
       h.uas AS receiver,
       CASE WHEN h.method = 'INVITE' AND h.in_dialog = 1 THEN 're-INVITE' ELSE h.method END AS method,
       h.cseq_num AS cseq,
       h.final_status AS status,
       f.reason,
       CASE WHEN h.cseq_num = h.prev_cseq THEN 'another request with the same CSeq ' || h.prev_cseq
            ELSE 'CSeq ' || h.prev_cseq END
           || ' (' || CASE WHEN p.method = 'INVITE' AND p.to_tag <> '' THEN 're-INVITE' ELSE p.method END
           || ', branch ' || p.top_branch || ')' AS earlier,
       CASE WHEN h.cseq_num = h.prev_cseq
            THEN 'a new request must take a higher number (RFC 3261 §12.2.1.1), and stacks such as pjsip answer 500'
            ELSE 'RFC 3261 §12.2.2 requires 500 for a lower number' END AS rfc_says
FROM hit h
JOIN m p ON p.msg_id = h.prev_msg_id
LEFT JOIN m f ON f.msg_id = h.final_msg_id
WHERE NOT EXISTS (SELECT 1 FROM hit u WHERE u.parent_txn_id = h.txn_id)
ORDER BY h.req_msg_id;
