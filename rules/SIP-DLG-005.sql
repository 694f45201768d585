-- id: SIP-DLG-005
-- severity: warning
-- title: re-INVITE/UPDATE answered 500 without Retry-After
-- rfc: RFC 5057 §5.1, RFC 3261 §21.5.1, RFC 3261 §14.2, RFC 3311 §5.2
-- impact: The session change is not applied; many UAs then send BYE (drop), and a session refresh
--   that is not done drops the call at expiry.
-- message: {responder} answered the in-dialog {request} (CSeq {cseq}) from {requester} with
--   {status} {reason} without Retry-After, while no other INVITE or UPDATE of the dialog was in
--   progress{after}
--
-- RFC 5057 §5.1 (note 13): a 500 without Retry-After to a re-INVITE/UPDATE leaves the UAC with
-- "retry or gracefully end the usage"; a UAS that only needs a moment must say when to retry.
-- Detect: the final response of an in-dialog INVITE or UPDATE transaction is 500 and has no
-- Retry-After.  Left out, because other rules own them (one fault, one report):
--  * the overlap cases: another INVITE or UPDATE transaction of the same dialog, on the same hop,
--    in either direction, was in progress when this request arrived (sent before it and not
--    finished: no final yet, or a non-2xx final not yet ACKed, RULES.md A.5; a transaction
--    that never got its final or its ACK counts as in progress for 64*T1).  A 500 is then
--    the right answer but needs Retry-After 0-10 s (SIP-OVL-004 for INVITE, SIP-UPD-002 for
--    UPDATE), and a 500 to glare belongs to SIP-OVL-003.  Same hop only: on a proxied dialog the
--    same request's transaction on the neighbouring hop is always "in progress" at that moment.
--  * a request whose CSeq is not higher than the previous one of the same sender in the dialog
--    (message.cseq_prev): "500 Invalid CSeq" is the right answer to it (RFC 3261 §12.2.2) and the
--    fault is the UAC's (SIP-CSEQ-001 / SIP-CSEQ-009).
-- Only the first final of the transaction is looked at: a 500 sent later to a retransmission of
-- an already answered request is SIP-DLG-006.  Evidence: the request, the 500, and the next
-- request of the same sender in the dialog (retry or BYE) if any.
-- A final that a proxy relayed from the next hop (a child transaction, parent_txn_id, with the
-- same final status) is reported once, on the hop next to the UA that produced it (A.9.4).
WITH x AS (
    SELECT t.*, rq.from_uri, rq.to_uri, rq.via_count, rq.cseq_prev, rs.reason, rs.retry_after
    FROM t
    JOIN message rq ON rq.msg_id = t.req_msg_id
    JOIN message rs ON rs.msg_id = t.final_msg_id
    WHERE t.in_dialog = 1
      AND (t.kind = 'INVITE' OR (t.kind = 'NONINVITE' AND t.method = 'UPDATE'))
)
SELECT x.final_msg_id AS msg_id,
       x.dialog_id,
       x.req_msg_id || coalesce(' ' || nx.req_msg_id, '') AS evidence,
       CASE WHEN instr(x.to_uri, '@') > 0
            THEN substr(x.to_uri, instr(x.to_uri, ':') + 1, instr(x.to_uri, '@') - instr(x.to_uri, ':') - 1)
                 || ' (' || x.uas || ')'
            ELSE x.uas END AS responder,
       CASE WHEN instr(x.from_uri, '@') > 0
            THEN substr(x.from_uri, instr(x.from_uri, ':') + 1, instr(x.from_uri, '@') - instr(x.from_uri, ':') - 1)
                 || CASE WHEN x.via_count > 1 THEN ' (via ' ELSE ' (' END || x.uac || ')'
            ELSE x.uac END AS requester,
       CASE x.method WHEN 'INVITE' THEN 're-INVITE' ELSE x.method END AS request,
       x.cseq_num AS cseq,
       x.final_status AS status,
       x.reason,
       CASE WHEN nx.txn_id IS NULL THEN ''
            ELSE '; the requester then sent ' || CASE nx.method WHEN 'INVITE' THEN 'a new re-INVITE'
                                                             ELSE nx.method END
                 || ' (CSeq ' || nx.cseq_num || ')' END AS after
FROM x
LEFT JOIN txn nx ON nx.txn_id = (SELECT n.txn_id FROM txn n
                                 WHERE n.dialog_id = x.dialog_id AND n.uac_side = x.uac_side
                                   AND n.kind IN ('INVITE', 'NONINVITE') AND n.req_first_us > x.first_final_us
                                 ORDER BY n.req_first_us LIMIT 1)
WHERE x.final_status = 500
  AND x.retry_after IS NULL
  AND NOT EXISTS (SELECT 1 FROM txn c   -- relayed by a proxy from the next hop: reported there
                  WHERE c.dialog_id = x.dialog_id AND c.parent_txn_id = x.txn_id
                    AND c.final_status = x.final_status)
  AND NOT (x.cseq_prev IS NOT NULL AND x.cseq_num <= x.cseq_prev)
  AND NOT EXISTS (
      SELECT 1 FROM txn o
      WHERE o.dialog_id = x.dialog_id AND o.txn_id <> x.txn_id
        AND (o.kind = 'INVITE' OR o.method = 'UPDATE')
        AND ((o.uac_ip = x.uac_ip AND o.uac_port = x.uac_port AND o.uas_ip = x.uas_ip AND o.uas_port = x.uas_port)
          OR (o.uac_ip = x.uas_ip AND o.uac_port = x.uas_port AND o.uas_ip = x.uac_ip AND o.uas_port = x.uac_port))
        AND o.transport IS x.transport
        AND o.req_first_us < x.req_first_us
        AND ((o.first_final_us IS NULL AND o.req_first_us + 64 * :t1_us > x.req_first_us)
             OR o.first_final_us > x.req_first_us
             OR (o.kind = 'INVITE' AND o.final_status >= 300
                 AND coalesce(o.ack_us, o.first_final_us + 64 * :t1_us) > x.req_first_us)));
