-- id: SIP-ACK-005
-- severity: warning
-- title: Non-2xx final response to INVITE never ACKed
-- rfc: RFC 3261 §17.1.1.2, RFC 3261 §17.1.1.3, RFC 3261 §17.2.1
-- impact: The caller side probably never got the failure (NAT, wrong Via or rport handling) and
--   sees a timeout instead of the real reason; the answering side retransmits its response and
--   keeps the transaction for 32 s.
-- message: {uac} did not ACK the {status} {reason} that {uas} sent to its {what} (CSeq {cseq})
--   within 64*T1 (T1 = {t1_ms} ms){more}
-- inconclusive: {uac} had not ACKed the {status} {reason} that {uas} sent to its {what} (CSeq
--   {cseq}) when the capture ended {seen_s} s after it, before the 64*T1 deadline (T1 = {t1_ms} ms)
-- confidence: high
--
-- Per hop (the ACK of a non-2xx is hop-by-hop: each stateful proxy ACKs on its own hop): an
-- INVITE transaction whose first final response is 300-699 and that has no ACK (the ACK with
-- the INVITE's branch is folded into the transaction: txn.ack_msg_id) by the first copy of
-- that final + 64*T1 (Timer H) + tol; an ACK after that deadline is reported too.  The number
-- of copies of the final (Timer G retransmissions on UDP, G8) is named; copies are not required
-- (over reliable transports there are none, yet the ACK is still due).
-- G3: no ACK seen and the capture of that input ends before the deadline: inconclusive.
-- Evidence: the INVITE, the final response, and the late ACK if any.
SELECT x.final_msg_id AS msg_id,
       x.req_msg_id || ' ' || x.final_msg_id || coalesce(' ' || x.ack_msg_id, '') AS evidence,
       x.uac, x.uas, x.cseq_num AS cseq, r.status, r.reason,
       CASE WHEN x.in_dialog = 1 THEN 're-INVITE' ELSE 'INVITE' END AS what,
       CASE WHEN x.ack_msg_id IS NULL AND cv.end_us < x.first_final_us + 64 * :t1_us + :tol_us
            THEN 1 ELSE 0 END AS inconclusive,
       printf('%.1f', (cv.end_us - x.first_final_us) / 1e6) AS seen_s,
       CASE WHEN x.ack_msg_id IS NOT NULL
                 THEN printf('; the ACK came only %.1f s after it', (x.ack_us - x.first_final_us) / 1e6)
            ELSE '' END
       || CASE WHEN rr.copies > 1 THEN printf('; the %d was sent %d times', r.status, rr.copies) ELSE '' END
           AS more
FROM t x
JOIN m r ON r.msg_id = x.final_msg_id
JOIN txn_response rr ON rr.txn_id = x.txn_id AND rr.first_msg_id = x.final_msg_id
JOIN coverage cv ON cv.capture_id = x.capture_id
WHERE x.kind = 'INVITE' AND x.final_status BETWEEN 300 AND 699
  AND (x.ack_msg_id IS NULL OR x.ack_us > x.first_final_us + 64 * :t1_us + :tol_us)
ORDER BY x.first_final_us;
