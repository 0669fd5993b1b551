"""smtpcheck._classify: real reply lines in, (verdict, reason) out."""

from __future__ import annotations

import pytest

from smtpcheck import _classify
from smtpcheck._classify import Classification, Phase, classify_recipient, classify_reply
from smtpcheck._result import Reason, Verdict
from smtpcheck._rules import TEXT_RULES
from smtpcheck.protocol import Reply

GREETING, EHLO, HELO, STARTTLS, MAIL, RCPT = (
    Phase.GREETING,
    Phase.EHLO,
    Phase.HELO,
    Phase.STARTTLS,
    Phase.MAIL,
    Phase.RCPT,
)

ACCEPTED = (Verdict.DELIVERABLE, Reason.ACCEPTED)
NOUSER = (Verdict.UNDELIVERABLE, Reason.MAILBOX_NOT_FOUND)
DISABLED = (Verdict.UNDELIVERABLE, Reason.MAILBOX_DISABLED)
FULL = (Verdict.RISKY, Reason.MAILBOX_FULL)
CATCH_ALL = (Verdict.RISKY, Reason.CATCH_ALL)
BLOCKED = (Verdict.UNKNOWN, Reason.BLOCKED)
POLICY = (Verdict.UNKNOWN, Reason.POLICY_REJECTED)
RATE = (Verdict.UNKNOWN, Reason.RATE_LIMITED)
TEMP = (Verdict.UNKNOWN, Reason.TEMPORARY_FAILURE)
GREY = (Verdict.UNKNOWN, Reason.GREYLISTED)
UTF8 = (Verdict.UNKNOWN, Reason.SMTPUTF8_UNSUPPORTED)
TLS = (Verdict.UNKNOWN, Reason.TLS_FAILED)
UNRECOGNIZED = (Verdict.UNKNOWN, Reason.UNRECOGNIZED_REPLY)
PROTOCOL = (Verdict.UNKNOWN, Reason.PROTOCOL_ERROR)


def r(code: int, *lines: str) -> Reply:
    return Reply(code, lines or ("",))


def said(c: Classification) -> tuple[Verdict, Reason]:
    return (c.verdict, c.reason)


# Real reply lines from /work/shared/data/replies.md, by catalogue number. Where the
# catalogue gives no basic code (a line quoted from a bounce), the code that goes with
# the enhanced code is supplied; where it gives no phase, RCPT is used (the worst case).
CATALOGUE = [
    pytest.param(
        RCPT,
        r(
            550,
            "5.1.1 The email account that you tried to reach does not exist. Please try",
            "5.1.1 double-checking the recipient's email address for typos or",
            "5.1.1 unnecessary spaces. Learn more at",
            "5.1.1 https://support.google.com/mail/answer/6596 w126si4908166wmd.120 - gsmtp",
        ),
        NOUSER,
        id="1-gmail-nouser-multiline",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.1.1 The email account that you tried to reach does not exist. Please try "
            "double-checking the recipient's email address for typos or unnecessary spaces. "
            "Learn more at https://support.google.com/mail/?p=NoSuchUser - gsmtp",
        ),
        NOUSER,
        id="2-gmail-nouser",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.2.1 The email account that you tried to reach is disabled. Learn more at "
            "https://support.google.com/mail/?p=DisabledUser - gsmtp",
        ),
        DISABLED,
        id="3-gmail-disabled",
    ),
    pytest.param(
        RCPT,
        r(
            552,
            "5.2.2 The email account that you tried to reach is over quota. Please direct the "
            "recipient to https://support.google.com/mail/?p=OverQuotaPerm - gsmtp",
        ),
        FULL,
        id="4-gmail-full-perm",
    ),
    pytest.param(
        RCPT,
        r(
            452,
            "4.2.2 The email account that you tried to reach is over quota. Please direct the "
            "recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp",
        ),
        FULL,
        id="5-gmail-full-temp",
    ),
    pytest.param(
        RCPT,
        r(552, "5.2.2 The email account that you tried to reach is over quota and inactive."),
        DISABLED,
        id="6-gmail-full-and-inactive",
    ),
    pytest.param(
        RCPT,
        r(
            452,
            "4.2.2 The recipient's inbox is out of storage space. Please direct the",
            "4.2.2 recipient to",
            "4.2.2  https://support.google.com/mail/?p=OverQuotaTemp - gsmtp",
        ),
        FULL,
        id="7-gmail-out-of-storage",
    ),
    pytest.param(
        RCPT,
        r(
            450,
            "4.2.1 The user you are trying to contact is receiving mail at a rate that prevents "
            "additional messages from being delivered. Please resend your message at a later "
            "time. If the user is able to receive mail at that time, your message will be "
            "delivered.",
        ),
        RATE,
        id="8-gmail-receiving-rate-temp",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.2.1 The user you are trying to contact is receiving mail at a rate that prevents "
            "additional messages from being delivered. For more information, please visit "
            "https://support.google.com/mail/?p=ReceivingRatePerm - gsmtp",
        ),
        FULL,
        id="9-gmail-receiving-rate-perm",
    ),
    pytest.param(
        RCPT,
        r(
            421,
            "4.7.28 [192.0.2.7] Our system has detected an unusual rate of unsolicited mail "
            "originating from your IP address. To protect our users from spam, mail sent from "
            "your IP address has been temporarily rate limited.",
        ),
        RATE,
        id="10-gmail-ip-rate",
    ),
    pytest.param(
        RCPT,
        r(421, "4.7.0 TLS required for RCPT domain, closing connection."),
        POLICY,
        id="11-gmail-tls-required",
    ),
    pytest.param(
        RCPT,
        r(
            553,
            "5.1.2 The recipient address <example@example.com> is not a valid RFC-5321 "
            "address. - gsmtp",
        ),
        NOUSER,
        id="12-gmail-invalid-address",
    ),
    pytest.param(
        EHLO,
        r(501, "5.5.4 Empty HELO/EHLO argument not allowed, closing connection."),
        BLOCKED,
        id="13-gmail-empty-helo",
    ),
    pytest.param(
        RCPT,
        r(
            554,
            "delivery error: dd This user doesn't have a yahoo.com account "
            "(alexwillis2011@yahoo.com) [-5] - mta1325.mail.gq1.yahoo.com",
        ),
        NOUSER,
        id="14-yahoo-nouser-wording",
    ),
    pytest.param(
        RCPT,
        r(
            554,
            "delivery error: dd Sorry, your message to example@example.com cannot be "
            "delivered. This mailbox is disabled (554.30). - example.yahoo.com",
        ),
        DISABLED,
        id="15-yahoo-disabled-wording",
    ),
    pytest.param(
        RCPT,
        r(554, "delivery error: dd example@example.com is no longer valid. [-20] - x.yahoo.com"),
        NOUSER,
        id="16-yahoo-no-longer-valid",
    ),
    pytest.param(
        RCPT,
        r(552, "1 Requested mail action aborted, mailbox not found"),
        NOUSER,
        id="17-552-mailbox-not-found",
    ),
    pytest.param(
        MAIL,
        r(
            421,
            "4.7.0 [TSS04] Messages from 185.205.69.214 temporarily deferred due to unexpected "
            "volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        ),
        RATE,
        id="18-yahoo-tss04",
    ),
    pytest.param(
        MAIL,
        r(
            553,
            "5.7.1 [BL21] Connections will not be accepted from 192.0.2.7, because the ip is "
            "in Spamhaus's list; see http://postmaster.yahoo.com/550-bl23",
        ),
        BLOCKED,
        id="19-yahoo-spamhaus",
    ),
    pytest.param(
        RCPT,
        r(
            451,
            "example.yahoo.com Resources temporarily unavailable. Please try again later "
            "[#4.16.1].",
        ),
        TEMP,
        id="20-yahoo-resources",
    ),
    pytest.param(
        RCPT,
        r(550, "5.5.0 Requested action not taken: mailbox unavailable (S2017062302)"),
        NOUSER,
        id="21-hotmail-mailbox-unavailable",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.5.0 Requested action not taken: mailbox unavailable. "
            "[#.eop-nam12.prod.protection.outlook.com]",
        ),
        NOUSER,
        id="22-outlook-mailbox-unavailable",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.4.1 Recipient address rejected: Access denied. AS(201806281) "
            "[PR2FRA01FT009.eop-fra01.prod.protection.outlook.com]",
        ),
        NOUSER,
        id="23-o365-dbeb-access-denied",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.4.1 All recipient addresses rejected : Access denied "
            "[#.eop-nam02.prod.protection.outlook.com]",
        ),
        NOUSER,
        id="24-o365-all-recipients-access-denied",
    ),
    pytest.param(
        MAIL,
        r(
            550,
            "5.7.1 Unfortunately, messages from [62.210.82.129] weren't sent. Please contact "
            "your Internet service provider since part of their network is on our block list "
            "(AS3140). You can also refer your provider to "
            "http://mail.live.com/mail/troubleshooting.aspx#errors.",
        ),
        BLOCKED,
        id="25-outlook-block-list",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.7.606 Access denied, banned sending IP [192.0.2.7]. To request removal from "
            "this list please visit https://sender.office.com/ and follow the directions. "
            "(AS16012609)",
        ),
        BLOCKED,
        id="26-o365-banned-ip",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.7.1 Service unavailable, Client host [3.211.34.40] blocked using Spamhaus. To "
            "request removal from this list see https://www.spamhaus.org/query/ip/3.211.34.40 "
            "(AS16012611) [DM3NAM03FT051.eop-NAM03.prod.protection.outlook.com]",
        ),
        BLOCKED,
        id="27-outlook-spamhaus",
    ),
    pytest.param(
        EHLO,
        r(
            550,
            "5.7.1 Service unavailable, Helo domain is listed in Spamhaus. To request removal "
            "from this list see https://www.spamhaus.org/query/lookup/ (S8001) "
            "[#.prod.protection.outlook.com]",
        ),
        BLOCKED,
        id="28-outlook-helo-spamhaus",
    ),
    pytest.param(
        RCPT,
        r(
            451,
            "4.7.500 Server busy. Please try again later from [192.0.2.7]. (AS77712344) "
            "[#.prod.protection.outlook.com]",
        ),
        TEMP,
        id="29-outlook-server-busy",
    ),
    pytest.param(
        RCPT,
        r(
            451,
            "4.7.650 The mail server [192.0.2.7] has been temporarily rate limited due to IP "
            "reputation. For e-mail delivery information, see https://postmaster.live.com "
            "(S843)[#.prod.protection.outlook.com]",
        ),
        RATE,
        id="30-outlook-ip-reputation",
    ),
    pytest.param(
        RCPT,
        r(
            451,
            "4.4.4 Temporary server error. Please try again later ATTR1 "
            "[MN1PEPF0000F0E2.namprd04.prod.outlook.com 2023-09-23T03:53:11.518Z "
            "08DBBB8502D01A60]",
        ),
        TEMP,
        id="31-outlook-temporary-server-error",
    ),
    pytest.param(
        RCPT,
        r(
            452,
            "4.5.3 Too many recipients (AS780090) "
            "[SN1NAM02FT003.eop-nam02.prod.protection.outlook.com]",
        ),
        RATE,
        id="32-outlook-too-many-recipients",
    ),
    pytest.param(
        RCPT,
        r(452, "4.3.1 Insufficient system resources (TSTE) [outlook.com]"),
        TEMP,
        id="33-outlook-insufficient-resources",
    ),
    pytest.param(
        RCPT,
        r(550, "5.1.1 <example@icloud.com>: user does not exist"),
        NOUSER,
        id="34-icloud-nouser",
    ),
    pytest.param(
        RCPT,
        r(552, "5.2.2 <example@icloud.com>: user is overquota"),
        FULL,
        id="35-icloud-full",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.7.1 Mail from IP 3.93.33.11 was rejected due to listing in Spamhaus SBL. For "
            "details please see http://www.spamhaus.org/query/bl?ip=3.93.33.11",
        ),
        BLOCKED,
        id="36-spamhaus-sbl",
    ),
    pytest.param(
        RCPT,
        r(554, "5.7.0 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.7"),
        BLOCKED,
        id="37-proofpoint-dnsbl",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.7.1 [CS01] Message rejected due to local policy. Please visit "
            "https://support.apple.com/en-us/HT204137",
        ),
        POLICY,
        id="38-apple-local-policy",
    ),
    pytest.param(
        RCPT,
        r(550, "5.1.1 <example@comcast.net> recipient mailbox unallocated"),
        NOUSER,
        id="39-comcast-unallocated",
    ),
    pytest.param(RCPT, r(550, "5.1.1 Not our Customer"), NOUSER, id="40-comcast-not-customer"),
    pytest.param(
        GREETING,
        r(
            554,
            "resimta-h1p-037598.sys.comcast.net resimta-h1p-037598.sys.comcast.net "
            "5.135.185.166 found on one or more DNSBLs, see "
            "http://postmaster.comcast.net/smtp-error-codes.php#BL000001",
        ),
        BLOCKED,
        id="41-comcast-dnsbl",
    ),
    pytest.param(
        GREETING,
        r(
            554,
            "xx.comcast.net comcast 192.0.2.7 Comcast requires that all mail servers must "
            "have a PTR record with a valid Reverse DNS entry.",
        ),
        BLOCKED,
        id="42-comcast-ptr",
    ),
    pytest.param(
        RCPT,
        r(550, "5.2.1 <EXAMPLE@PRODIGY.NET>... Addressee unknown, relay=[192.0.2.7]"),
        NOUSER,
        id="43-att-addressee-unknown",
    ),
    pytest.param(RCPT, r(550, "5.7.1 No such user!"), NOUSER, id="44-yandex-no-such-user"),
    pytest.param(
        RCPT,
        r(550, "5.7.1 Policy rejection on the target address"),
        POLICY,
        id="45-yandex-policy",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "Message was not accepted -- invalid mailbox. Local mailbox example@mail.ru is "
            "unavailable: account is disabled",
        ),
        DISABLED,
        id="46-mailru-disabled",
    ),
    pytest.param(
        RCPT,
        r(550, "5.2.1 This mailbox has been blocked due to inactivity"),
        DISABLED,
        id="47-free-inactivity",
    ),
    pytest.param(
        RCPT,
        r(550, "5.2.1 RACT MY.IP: Mailbox is inactive: <USER@hanmail.net>"),
        DISABLED,
        id="48-hanmail-inactive",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
        ),
        NOUSER,
        id="49-orange-invalid-recipient",
    ),
    pytest.param(
        GREETING,
        r(
            550,
            "mwinfXXXX ME Adresse IP source bloquee pour incident de spam. Client host blocked "
            "for spamming issues. OFR006_102 Ref "
            "http://csi.cloudmark.com/reset-request/?ip=192.0.2.7 [102]",
        ),
        BLOCKED,
        id="50-orange-cloudmark",
    ),
    pytest.param(
        GREETING,
        r(
            554,
            "gmx.net (mxgmx117) Nemesis ESMTP Service not available; No SMTP service; IP "
            "address is block listed.; For explanation visit "
            "https://www.gmx.net/mail/senderguidelines?c=bl",
        ),
        BLOCKED,
        id="51-gmx-block-listed",
    ),
    pytest.param(
        RCPT,
        r(550, "<example@example.com>: Requested action not taken: mailbox unavailable"),
        NOUSER,
        id="52-webde-mailbox-unavailable",
    ),
    pytest.param(
        RCPT,
        r(550, "<example@example.com>: Bad DNS PTR resource record"),
        BLOCKED,
        id="53-webde-ptr",
    ),
    pytest.param(
        RCPT, r(550, "5.1.1 MXIN501 mailbox <EMAIL> unknown"), NOUSER, id="54-virginmedia"
    ),
    pytest.param(
        RCPT,
        r(550, "5.1.1 Email address could not be found, or was misspelled (G8)"),
        NOUSER,
        id="55-rackspace",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.1.1 RCP-P1 Domain facebook.com no longer available "
            "https://www.facebook.com/postmaster/response_codes?ip=3.80.111.155#RCP-P1",
        ),
        NOUSER,
        id="56-facebook-retired",
    ),
    pytest.param(
        RCPT,
        r(550, "5.1.1 : Recipient address rejected: User unknown in virtual alias table"),
        NOUSER,
        id="80-postfix-virtual-alias",
    ),
    pytest.param(
        RCPT,
        r(550, "recipient address rejected: user unknown in local recipient table"),
        NOUSER,
        id="80-postfix-local-recipient-no-status",
    ),
    pytest.param(
        RCPT,
        r(550, "5.1.1 <example@hey.com>: Recipient address rejected: User unknown"),
        NOUSER,
        id="81-hey",
    ),
    pytest.param(
        RCPT,
        r(
            450,
            "4.2.0 <xo@wvvw.me>: Recipient address rejected: Greylisted, see "
            "http://postgrey.schweikert.ch/help/wvvw.me.html",
        ),
        GREY,
        id="82-postgrey",
    ),
    pytest.param(RCPT, r(550, "5.1.1 : Unrouteable address"), NOUSER, id="87-exim-unrouteable"),
]


@pytest.mark.parametrize(("phase", "reply", "expected"), CATALOGUE)
def test_catalogue(phase: Phase, reply: Reply, expected: tuple[Verdict, Reason]) -> None:
    assert said(classify_reply(phase, reply)) == expected


def test_catalogue_is_large_enough() -> None:
    assert len(CATALOGUE) >= 40


# Cases for the rules of DESIGN.md and the decisions documented in smtpcheck._classify.
RULES = [
    # Mail filters' own wordings.
    pytest.param(
        RCPT,
        r(554, "5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.7"),
        BLOCKED,
        id="proofpoint-blocked",
    ),
    pytest.param(
        RCPT,
        r(550, "5.7.708 Service unavailable. Access denied, traffic not accepted from this IP."),
        BLOCKED,
        id="o365-5.7.708",
    ),
    pytest.param(
        RCPT, r(550, "5.7.511 Access denied, banned sender[192.0.2.7]"), BLOCKED, id="o365-5.7.511"
    ),
    pytest.param(
        RCPT,
        r(550, "Administrative prohibition - envelope blocked - https://community.mimecast.com"),
        POLICY,
        id="mimecast-envelope-blocked",
    ),
    pytest.param(
        RCPT,
        r(553, "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"),
        POLICY,
        id="qmail-rcpthosts",
    ),
    pytest.param(RCPT, r(550, "#5.1.0 Address rejected."), NOUSER, id="ironport-ldap-accept"),
    pytest.param(RCPT, r(450, "#5.1.0 Address rejected."), TEMP, id="ironport-wording-with-a-4xx"),
    # Positive replies.
    pytest.param(RCPT, r(250, "2.1.5 Ok"), ACCEPTED, id="rcpt-250"),
    pytest.param(RCPT, r(251, "User not local; will forward"), ACCEPTED, id="rcpt-251"),
    pytest.param(RCPT, r(354, "go ahead"), PROTOCOL, id="rcpt-3xx-is-a-protocol-error"),
    pytest.param(MAIL, r(250, "2.1.0 Ok"), UNRECOGNIZED, id="mail-250-says-nothing"),
    pytest.param(GREETING, r(220, "mx.example ESMTP"), UNRECOGNIZED, id="greeting-220"),
    # The same text means different things at different phases.
    pytest.param(
        MAIL,
        r(550, "5.7.1 Service unavailable, Client host [192.0.2.7] blocked using Spamhaus"),
        BLOCKED,
        id="blocklist-at-mail",
    ),
    pytest.param(MAIL, r(550, "5.1.1 User unknown"), POLICY, id="5.1.1-at-mail-is-our-sender"),
    pytest.param(
        MAIL, r(550, "5.1.1 <bounce@ours.example>... User unknown"), POLICY, id="mail-nouser"
    ),
    pytest.param(GREETING, r(550, "5.1.1 No such user"), BLOCKED, id="5.1.1-at-greeting"),
    pytest.param(EHLO, r(550, "5.2.2 Mailbox full"), BLOCKED, id="full-at-ehlo"),
    pytest.param(HELO, r(554, "Go away"), BLOCKED, id="helo-refused"),
    pytest.param(GREETING, r(554, "No SMTP service here"), BLOCKED, id="greeting-554"),
    pytest.param(GREETING, r(450, "Please wait"), TEMP, id="greeting-4xx"),
    pytest.param(MAIL, r(451, "4.3.0 Temporary lookup failure"), TEMP, id="mail-4xx"),
    pytest.param(MAIL, r(553, "Rejected"), POLICY, id="mail-5xx-unexplained"),
    pytest.param(MAIL, r(550, "5.4.1 Access denied"), POLICY, id="mail-o365-wording"),
    pytest.param(STARTTLS, r(454, "4.7.0 TLS not available due to local problem"), TLS, id="tls"),
    pytest.param(STARTTLS, r(502, "5.5.1 Command not implemented"), TLS, id="starttls-5xx"),
    pytest.param(STARTTLS, r(421, "Bye"), TEMP, id="starttls-421"),
    pytest.param(MAIL, r(555, "5.5.4 SMTPUTF8 not supported"), UTF8, id="utf8-at-mail"),
    pytest.param(RCPT, r(553, "5.6.7 Address refused"), UTF8, id="5.6.7-at-rcpt"),
    pytest.param(MAIL, r(553, "5.6.7 Address refused"), UTF8, id="5.6.7-at-mail"),
    # Before MAIL FROM, the command decides, not the enhanced code.
    pytest.param(GREETING, r(554, "5.7.1 Go away"), BLOCKED, id="5.7.1-at-greeting"),
    pytest.param(EHLO, r(451, "4.7.1 Later"), TEMP, id="4.7.1-at-ehlo"),
    # 421 anywhere: temporary or rate limited, never about the mailbox.
    pytest.param(GREETING, r(421, "Service not available"), TEMP, id="421-greeting"),
    pytest.param(RCPT, r(421, "4.7.0 Try again later, closing connection."), POLICY, id="421-4.7"),
    pytest.param(RCPT, r(421, "closing channel"), TEMP, id="421-rcpt"),
    pytest.param(RCPT, r(421, "4.1.1 User unknown"), TEMP, id="421-user-unknown"),
    pytest.param(EHLO, r(421, "Too many connections from your host"), RATE, id="421-too-many"),
    pytest.param(
        GREETING,
        r(421, "4.7.0 Maximum number of connections from your host reached"),
        RATE,
        id="421-max-connections",
    ),
    pytest.param(MAIL, r(451, "4.7.1 Concurrent sessions limit"), RATE, id="concurrent"),
    # Anything about us at RCPT (Postfix reports client, HELO and sender checks there).
    pytest.param(
        RCPT,
        r(
            550,
            "5.1.1 <x@example.com>: Recipient address rejected: User unknown; client host "
            "[192.0.2.7] blocked using zen.spamhaus.org",
        ),
        BLOCKED,
        id="blocklist-beats-5.1.1",
    ),
    pytest.param(
        RCPT,
        r(450, "4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.7]"),
        BLOCKED,
        id="postfix-client-host",
    ),
    pytest.param(
        RCPT,
        r(504, "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"),
        BLOCKED,
        id="postfix-helo-at-rcpt",
    ),
    pytest.param(
        RCPT,
        r(553, "5.7.1 <bounce@ours.example>: Sender address rejected: not owned by user"),
        POLICY,
        id="postfix-sender-at-rcpt",
    ),
    pytest.param(RCPT, r(550, "5.7.26 Unauthenticated email (DMARC)"), POLICY, id="dmarc"),
    pytest.param(RCPT, r(554, "5.7.1 <x@example.com>: Relay access denied"), POLICY, id="relay"),
    pytest.param(RCPT, r(550, "Relaying denied"), POLICY, id="relay-no-status"),
    pytest.param(
        RCPT, r(530, "5.7.0 Must issue a STARTTLS command first"), POLICY, id="starttls-first"
    ),
    pytest.param(RCPT, r(530, "5.7.0 Authentication required"), POLICY, id="auth-required"),
    pytest.param(RCPT, r(555, "5.5.4 SMTPUTF8 not supported"), UTF8, id="utf8-at-rcpt"),
    pytest.param(RCPT, r(550, "5.7.1 Message rejected as spam"), POLICY, id="spam-filter"),
    pytest.param(
        RCPT,
        r(554, "5.7.1 <x@example.com>: Recipient address rejected: Access denied"),
        POLICY,
        id="postfix-access-denied-5.7.1",
    ),
    pytest.param(RCPT, r(550, "Access denied"), POLICY, id="bare-access-denied"),
    # A recipient's own name trips no rule.
    pytest.param(
        RCPT,
        r(550, "5.1.1 <spam.blocklist@example.com>: Recipient address rejected: User unknown"),
        NOUSER,
        id="address-words-ignored",
    ),
    pytest.param(
        RCPT,
        r(
            550,
            "5.1.1 <x@example.com>: Recipient address rejected: User unknown in relay "
            "recipient table",
        ),
        NOUSER,
        id="relay-recipient-table-is-not-relaying",
    ),
    pytest.param(
        RCPT,
        r(550, "5.1.1 User not listed in public Name & Address Book"),
        NOUSER,
        id="domino-not-listed-is-not-a-blocklist",
    ),
    # 5.1.1 with any text is no such user; other 5.1.x address codes too.
    pytest.param(RCPT, r(550, "5.1.1 Go away"), NOUSER, id="5.1.1-any-text"),
    pytest.param(RCPT, r(501, "5.1.3 Bad recipient address syntax"), NOUSER, id="5.1.3"),
    pytest.param(RCPT, r(550, "5.1.6 Moved"), NOUSER, id="5.1.6"),
    pytest.param(RCPT, r(550, "5.1.10 RESOLVER.ADR.RecipientNotFound"), NOUSER, id="5.1.10"),
    pytest.param(RCPT, r(553, "5.1.8 Domain of sender address does not exist"), POLICY, id="581"),
    pytest.param(RCPT, r(550, "5.1.7 Bad sender mailbox syntax"), POLICY, id="5.1.7"),
    pytest.param(RCPT, r(550, "5.1.7 x"), POLICY, id="5.1.7-no-text"),
    pytest.param(RCPT, r(550, "5.2.1 x"), DISABLED, id="5.2.1-no-text"),
    pytest.param(RCPT, r(552, "5.2.2 x"), FULL, id="5.2.2-no-text"),
    pytest.param(RCPT, r(550, "5.7.1 x"), POLICY, id="5.7.1-no-text"),
    pytest.param(RCPT, r(452, "4.5.3 x"), RATE, id="4.5.3-no-text"),
    pytest.param(RCPT, r(451, "4.3.0 x"), TEMP, id="4.3.0-no-text"),
    pytest.param(RCPT, r(550, "5.3.0 x"), UNRECOGNIZED, id="5.3.0-no-text"),
    pytest.param(RCPT, r(550, "5.4.1 x"), UNRECOGNIZED, id="5.4.1-without-access-denied"),
    # No enhanced code and nothing pointing at the mailbox: unknown.
    pytest.param(
        RCPT, r(550, "Requested action not taken: mailbox unavailable"), NOUSER, id="550-rfc"
    ),
    pytest.param(RCPT, r(554, "Transaction failed"), UNRECOGNIZED, id="554-transaction-failed"),
    pytest.param(RCPT, r(550, ""), UNRECOGNIZED, id="550-empty"),
    pytest.param(RCPT, r(552, "Requested mail action aborted"), UNRECOGNIZED, id="552-no-text"),
    pytest.param(
        RCPT, r(551, "User not local; please try <x@elsewhere.example>"), UNRECOGNIZED, id="551"
    ),
    # 4xx at RCPT: never undeliverable.
    pytest.param(
        RCPT,
        r(
            450,
            "4.1.1 <x@example.com>: Recipient address rejected: User unknown in local "
            "recipient table",
        ),
        TEMP,
        id="4xx-user-unknown-postfix-soft",
    ),
    pytest.param(
        RCPT,
        r(
            450,
            "4.1.1 <x@example.com>: Recipient address rejected: unverified address: "
            "Address verification in progress",
        ),
        TEMP,
        id="4xx-unverified-address",
    ),
    pytest.param(RCPT, r(450, "4.2.1 Mailbox disabled, try later"), TEMP, id="4xx-disabled"),
    pytest.param(RCPT, r(450, "Mailbox busy"), TEMP, id="4xx-unexplained"),
    pytest.param(
        RCPT, r(451, "4.7.1 Please try again later"), GREY, id="451-4.7.1-try-again-later"
    ),
    pytest.param(RCPT, r(451, "Greylisting in action, please come back later"), GREY, id="sqlgrey"),
    pytest.param(RCPT, r(452, "Try again later"), TEMP, id="452-try-again-later-not-grey"),
    pytest.param(RCPT, r(451, "4.7.1 x"), POLICY, id="4.7.1-no-text"),
    pytest.param(
        RCPT, r(452, "4.3.1 Insufficient system storage"), TEMP, id="insufficient-storage"
    ),
]


@pytest.mark.parametrize(("phase", "reply", "expected"), RULES)
def test_rules(phase: Phase, reply: Reply, expected: tuple[Verdict, Reason]) -> None:
    assert said(classify_reply(phase, reply)) == expected


def test_every_text_rule_decides_some_case() -> None:
    # No rule is dead or shadowed by the ones above it: each one is the first to match
    # at least one reply of the tables above.
    reached = set()
    for case in CATALOGUE + RULES:
        _, reply, _ = case.values
        assert isinstance(reply, Reply)
        text = " ".join(_classify._ADDRESS.sub(" <address> ", reply.text.lower()).split())
        for index, rule in enumerate(TEXT_RULES):
            if (
                (not rule.codes or reply.code in rule.codes)
                and (rule.status is None or rule.status == reply.enhanced)
                and rule.pattern.search(text)
            ):
                reached.add(index)
                break
    assert reached == set(range(len(TEXT_RULES)))


OK = r(250, "2.1.5 Ok")
NOUSER_REPLY = r(550, "5.1.1 <x@example.com>: Recipient address rejected: User unknown")
DISABLED_REPLY = r(550, "5.2.1 The email account that you tried to reach is disabled.")
FULL_REPLY = r(452, "4.2.2 The email account that you tried to reach is over quota.")
GREY_REPLY = r(450, "4.2.0 Recipient address rejected: Greylisted")
TOO_MANY = r(452, "4.5.3 Too many recipients")
BLOCKED_REPLY = r(554, "5.7.1 Client host [192.0.2.7] blocked using zen.spamhaus.org")
ODD_5XX = r(554, "Transaction failed")


@pytest.mark.parametrize(
    ("real", "probe", "probed", "expected", "catch_all"),
    [
        # Real accepted.
        pytest.param(OK, NOUSER_REPLY, True, ACCEPTED, False, id="accepted-random-rejected"),
        pytest.param(OK, DISABLED_REPLY, True, ACCEPTED, False, id="random-disabled"),
        pytest.param(OK, OK, True, CATCH_ALL, True, id="accepted-random-accepted"),
        pytest.param(
            OK, GREY_REPLY, True, (Verdict.UNKNOWN, Reason.GREYLISTED), None, id="random-greylisted"
        ),
        pytest.param(
            OK, TOO_MANY, True, (Verdict.UNKNOWN, Reason.RATE_LIMITED), None, id="random-too-many"
        ),
        pytest.param(OK, FULL_REPLY, True, CATCH_ALL, None, id="random-full"),
        pytest.param(OK, BLOCKED_REPLY, True, CATCH_ALL, None, id="random-blocked"),
        pytest.param(OK, ODD_5XX, True, CATCH_ALL, None, id="random-unrecognised-5xx"),
        pytest.param(OK, None, True, CATCH_ALL, None, id="random-not-answered"),
        pytest.param(OK, None, False, ACCEPTED, None, id="not-probed"),
        # Real refused: the real reply decides.
        pytest.param(NOUSER_REPLY, NOUSER_REPLY, True, NOUSER, False, id="both-rejected"),
        pytest.param(NOUSER_REPLY, None, True, NOUSER, None, id="rejected-not-answered"),
        pytest.param(NOUSER_REPLY, None, False, NOUSER, None, id="rejected-not-probed"),
        pytest.param(DISABLED_REPLY, OK, True, DISABLED, True, id="disabled-on-catch-all"),
        pytest.param(FULL_REPLY, OK, True, FULL, True, id="full-on-catch-all"),
        pytest.param(GREY_REPLY, GREY_REPLY, True, GREY, None, id="greylisted"),
        pytest.param(BLOCKED_REPLY, NOUSER_REPLY, True, BLOCKED, False, id="blocked"),
        pytest.param(TOO_MANY, None, True, RATE, None, id="too-many"),
    ],
)
def test_classify_recipient(
    real: Reply,
    probe: Reply | None,
    probed: bool,
    expected: tuple[Verdict, Reason],
    catch_all: bool | None,
) -> None:
    classification, found = classify_recipient(real, probe, probed=probed)
    assert (said(classification), found) == (expected, catch_all)


def test_classify_recipient_refuses_a_probe_reply_when_not_probed() -> None:
    with pytest.raises(ValueError, match="probed is False"):
        classify_recipient(OK, OK, probed=False)


def test_classification_is_a_frozen_value() -> None:
    c = classify_reply(RCPT, OK)
    assert c == Classification(Verdict.DELIVERABLE, Reason.ACCEPTED)
    with pytest.raises(AttributeError):
        c.verdict = Verdict.UNKNOWN  # type: ignore[misc]


def test_phase_covers_the_commands_before_data() -> None:
    assert [p.name for p in Phase] == ["GREETING", "EHLO", "HELO", "STARTTLS", "MAIL", "RCPT"]
