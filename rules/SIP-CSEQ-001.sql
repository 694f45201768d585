-- id: SIP-CSEQ-001
-- severity: error
-- title: CSeq decreased within a dialog direction
-- rfc: RFC 3261 §12.2.1.1, RFC 3261 §12.2.2
-- impact: The receiver must answer 500: the request (re-INVITE, BYE, refresh) fails, so hold or
--   transfer fails, the call hangs or drops at expiry; a receiver that accepts it applies a stale request.
-- message: {sender} sent {method} with CSeq {cseq} to {receiver} after it had already used CSeq
--   {prev_cseq} ({prev_method}) in this dialog; {reaction}
-- confidence: high
--
-- Evaluation set R(D, side, hop) of RULES.md B.3: the transactions of dialog D (every
-- transaction with a message in D, so the dialog-creating INVITE counts for each fork it
-- created, and the request copies on each hop are separate transactions), sent by one side,
-- on one hop (the unordered address pair + transport), without ACK and CANCEL (they reuse
-- the INVITE's number), one row per transaction (its first copy: retransmissions G1 and
-- duplicates G2 are never rows).  A row fires when its number is below the highest number
-- the same side used before it on that hop: 1, 5, 3, 4 reports 3 and 4, both of which a
-- RFC 3261 §12.2.2 receiver rejects (a plain LAG would miss the 4).  Partial dialogs (G4)
-- need no special case: their first request has nothing before it.
-- The receiver's reaction is part of the sentence: 500 is what §12.2.2 requires; a 2xx is
-- also reported by SIP-CSEQ-009 (warning, the receiver's fault), anything else is named.
-- Confidence is low when the two requests were seen less than the timing tolerance apart:
-- two requests sent back-to-back may have been reordered in transit before this hop.
-- One fault, one finding (RULES.md A.9.4): a proxy relays the request unchanged, so the
-- same decrease shows again on the next hop (txn.parent_txn_id, the Via-suffix relation);
-- a hit whose parent transaction is itself a hit is left out, the finding stays on the hop
-- next to the sender (irontec__sngrep/ipv6frag.pcap: the caller's BYE, frames 31 and 32).
-- Not handled: a Proxy-B2BUA renumbering CSeq is seen as its own side on its own hop (the
-- partition is per hop, so it is compared with itself only); a UA restart that restarts
-- its numbering is reported (RFC 3261 §12.2.2 gives no exception).
WITH dtx AS (   -- (dialog, transaction) pairs; only the dialogs where a CSEQ rule can fire (prelude)
    SELECT dialog_id, txn_id FROM cseq_dialog_txn
), r AS (
    SELECT d.dialog_id, t.txn_id, t.parent_txn_id, t.uac_side AS side, t.uac, t.uas, t.method, t.in_dialog,
           t.cseq_num, t.req_msg_id, t.req_first_us, t.final_status, t.final_msg_id,
           max(printf('%012d %d', t.cseq_num, t.req_msg_id)) OVER w AS prev_top
    FROM dtx d JOIN t ON t.txn_id = d.txn_id
    WHERE t.kind IN ('INVITE', 'NONINVITE') AND t.method NOT IN ('ACK', 'CANCEL')
      AND t.cseq_num IS NOT NULL AND t.uac_side IN ('caller', 'callee')
    WINDOW w AS (PARTITION BY d.dialog_id, t.uac_side, min(t.uac, t.uas), max(t.uac, t.uas), t.transport
                 ORDER BY t.req_first_us, t.req_msg_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), hit AS (
    SELECT r.*, CAST(substr(prev_top, 1, 12) AS INTEGER) AS prev_cseq,
           CAST(substr(prev_top, 14) AS INTEGER) AS prev_msg_id
    FROM r WHERE prev_top IS NOT NULL AND r.in_dialog = 1 AND r.cseq_num < CAST(substr(prev_top, 1, 12) AS INTEGER)
)
SELECT h.req_msg_id AS msg_id,
       h.prev_msg_id || ' ' || h.req_msg_id || coalesce(' ' || h.final_msg_id, '') AS evidence,
       h.dialog_id,
       h.uac || ' (' || h.side || ')' AS sender,
       h.uas AS receiver,
       CASE WHEN h.method = 'INVITE' AND h.in_dialog = 1 THEN 're-INVITE' ELSE h.method END AS method,
       h.cseq_num AS cseq,
       h.prev_cseq,
       CASE WHEN p.method = 'INVITE' AND p.to_tag <> '' THEN 're-INVITE' ELSE p.method END AS prev_method,
       CASE
           WHEN h.final_status IS NULL THEN h.uas || ' sent no final response in the capture'
           WHEN h.final_status = 500 THEN h.uas || ' rejected it with 500 ' || coalesce(f.reason, '')
                || ', as RFC 3261 §12.2.2 requires'
           WHEN h.final_status BETWEEN 200 AND 299 THEN h.uas || ' accepted it with '
                || h.final_status || ' ' || coalesce(f.reason, '')
                || ' instead of answering 500 (SIP-CSEQ-009)'
           ELSE h.uas || ' answered ' || h.final_status || ' ' || coalesce(f.reason, '')
                || ' (RFC 3261 §12.2.2 asks for 500)'
       END AS reaction,
       CASE WHEN h.req_first_us - p.ts_us < :tol_us THEN 'low' ELSE 'high' END AS confidence
FROM hit h
JOIN m p ON p.msg_id = h.prev_msg_id
LEFT JOIN m f ON f.msg_id = h.final_msg_id
WHERE NOT EXISTS (SELECT 1 FROM hit u WHERE u.txn_id = h.parent_txn_id)
ORDER BY h.req_msg_id;
