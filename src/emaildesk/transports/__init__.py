"""Mail transports: SMTP/LMTP listeners, the IMAP poller, the outbound SMTP client."""
