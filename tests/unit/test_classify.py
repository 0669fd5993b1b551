"""smtpcheck._classify: real reply lines in, (verdict, reason) out."""

from __future__ import annotations

from collections import Counter
from typing import cast

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
    # --- Issue 19: real lines from public sources, by family; each cites where it is from.
    # sisimai = the bounce-classification project (github.com/sisimai, reason/*.go and
    # rhost/*.go, whose Microsoft table follows Exchange Online's NDR documentation).
    # Disabled accounts, in many words and languages.
    pytest.param(
        RCPT, r(550, "User suspended"), DISABLED, id="disabled-163-user-suspended"
    ),  # sisimai reason/Suspend (mail.163.com help)
    pytest.param(
        RCPT, r(550, "x@qq.com is a deactivated mailbox"), DISABLED, id="disabled-qq-deactivated"
    ),  # sisimai reason/Suspend (service.mail.qq.com)
    pytest.param(
        RCPT,
        r(
            554,
            "delivery error: dd Sorry your message to x@yahoo.com.cn cannot be delivered. This "
            "account has been disabled or discontinued.",
        ),
        DISABLED,
        id="disabled-yahoo-cn-discontinued",
    ),  # help.szhot.com bounce guide
    pytest.param(
        RCPT,
        r(550, "x@163.net is now disabled with SMTP service."),
        DISABLED,
        id="disabled-21cn-now-disabled",
    ),  # help.szhot.com bounce guide
    pytest.param(
        RCPT,
        r(550, "This account has been temporarily suspended"),
        DISABLED,
        id="disabled-coremail-temporarily-suspended",
    ),  # icoremail.vip bounce list
    pytest.param(RCPT, r(550, "Mailbox is frozen"), DISABLED, id="disabled-frozen"),  # sisimai
    pytest.param(
        RCPT,
        r(550, "x@example.jp is unavailable: user is terminated"),
        DISABLED,
        id="disabled-terminated",
    ),  # sisimai reason/Suspend
    pytest.param(
        RCPT,
        r(550, "vdelivermail: account is locked email bounced"),
        DISABLED,
        id="disabled-vpopmail-locked",
    ),  # sisimai reason/Suspend
    pytest.param(RCPT, r(550, "user is locked."), DISABLED, id="disabled-sina-locked"),
    # blog.sina.com.cn Coremail reply list ("邮箱被锁")
    pytest.param(
        RCPT,
        r(550, "5.5.0 Boite du destinataire archivee. Archived recipient. LPN007_420"),
        DISABLED,
        id="disabled-orange-archived",
    ),  # sisimai rhost/for-franceptt.go (code 420)
    pytest.param(
        RCPT,
        r(
            550,
            "5.5.0 Le compte du destinataire est bloque. The recipient account isblocked. "
            "LPN007_426",
        ),
        DISABLED,
        id="disabled-laposte-blocked",
    ),  # sisimai rhost/for-franceptt.go (code 426)
    pytest.param(
        RCPT,
        r(550, "5.2.1 <x@example.jp>: Recipient rejected: Temporarily inactive"),
        DISABLED,
        id="disabled-temporarily-inactive",
    ),  # sisimai reason/Suspend
    pytest.param(
        RCPT,
        r(550, "5.2.1 This address no longer accepts mail."),
        DISABLED,
        id="disabled-no-longer-accepts-mail",
    ),  # sisimai reason/Suspend
    # Unknown users without an enhanced status code, or misspelt (older MTAs, Chinese,
    # Polish and European providers).
    pytest.param(
        RCPT,
        r(550, "Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&no=1000728"),
        NOUSER,
        id="nouser-qq-mailbox-not-found",
    ),  # dbmailserver.com bounce list; smtp.codes/qq
    pytest.param(
        RCPT, r(550, "User not found: 12345@163.com"), NOUSER, id="nouser-163-user-not-found"
    ),  # dbmailserver.com bounce list
    pytest.param(
        RCPT,
        r(550, "RC:LD The email account that you tried to reach does no exists."),
        NOUSER,
        id="nouser-misspelt-does-no-exists",
    ),  # dbmailserver.com bounce list
    pytest.param(
        RCPT, r(551, "5.1.1 recipient is not exist"), NOUSER, id="nouser-recipient-is-not-exist"
    ),  # dbmailserver.com bounce list
    pytest.param(RCPT, r(550, "abcd:user not exist"), NOUSER, id="nouser-user-not-exist"),
    # dbmailserver.com bounce list
    pytest.param(
        RCPT, r(550, "Local User [xxx@123.com] not found."), NOUSER, id="nouser-local-user"
    ),  # dbmailserver.com bounce list
    pytest.param(
        RCPT, r(550, "#2175041 unavailable mail user"), NOUSER, id="nouser-unavailable-mail-user"
    ),  # dbmailserver.com bounce list; icoremail.vip bounce list
    pytest.param(
        RCPT, r(552, '"RCPT TO" mailbox unavailable'), NOUSER, id="nouser-552-mailbox-unavailable"
    ),  # dbmailserver.com bounce list
    pytest.param(
        RCPT,
        r(550, "5.7.0 x@dbmailtest.example... address invalid"),
        NOUSER,
        id="nouser-5.7.0-address-invalid",
    ),  # dbmailserver.com bounce list
    pytest.param(
        RCPT, r(550, "RC:NE The email account does not exist."), NOUSER, id="nouser-rc-ne"
    ),  # dbmailserver.com bounce list
    pytest.param(RCPT, r(550, "no such user here"), NOUSER, id="nouser-umail"),
    # dbmailserver.com bounce list
    pytest.param(
        RCPT, r(550, "not user of this server"), NOUSER, id="nouser-coremail-not-user-of-server"
    ),  # icoremail.vip bounce list
    pytest.param(
        RCPT,
        r(550, "local server don't exists that user"),
        NOUSER,
        id="nouser-coremail-dont-exists",
    ),  # icoremail.vip bounce list
    pytest.param(
        RCPT,
        r(550, "unknown or illegal alias: x@zjuem.zju.edu.cn"),
        NOUSER,
        id="nouser-illegal-alias",
    ),  # tnet.hk bounce guide
    pytest.param(
        RCPT,
        r(550, "User x@163.net is not found in Server ."),
        NOUSER,
        id="nouser-163net-not-found-in-server",
    ),  # tnet.hk bounce guide
    pytest.param(
        RCPT, r(550, "No such person at this address"), NOUSER, id="nouser-no-such-person"
    ),  # sisimai reason/UserUnknown
    pytest.param(RCPT, r(550, "Utilisateur inconnu !"), NOUSER, id="nouser-french"),
    # sisimai reason/UserUnknown
    pytest.param(
        RCPT, r(550, "nessun utente simile in questo indirizzo"), NOUSER, id="nouser-italian"
    ),  # sisimai reason/UserUnknown
    pytest.param(RCPT, r(550, "no existe dicha persona"), NOUSER, id="nouser-spanish"),
    # sisimai reason/UserUnknown
    pytest.param(
        RCPT,
        r(550, "weil die Adresse nicht gefunden wurde oder keine E-Mails empfangen kann"),
        NOUSER,
        id="nouser-german",
    ),  # sisimai reason/UserUnknown
    pytest.param(RCPT, r(550, "mailbox unavaiable"), NOUSER, id="nouser-misspelt-unavaiable"),
    # sisimai reason/UserUnknown
    pytest.param(
        RCPT, r(550, "#5.1.1 bad address x@example.jp"), NOUSER, id="nouser-hash-bad-address"
    ),  # sisimai reason/UserUnknown
    pytest.param(RCPT, r(550, "mailbox unavailable."), NOUSER, id="nouser-sina"),
    # blog.sina.com.cn Coremail reply list ("邮箱不存在")
    pytest.param(RCPT, r(550, "5.1.1 Account not found"), NOUSER, id="nouser-interia"),
    # pomoc.poczta.interia.pl
    # 501 (bad address) at RCPT.
    pytest.param(
        RCPT,
        r(501, "Bad address syntax. http://service.exmail.qq.com/cgi-bin/help?no=1000730"),
        NOUSER,
        id="nouser-qq-501-bad-address-syntax",
    ),  # smtp.codes/qq; dbmailserver.com bounce list
    # Microsoft's recipient-access codes (5.7.5xx): which name the recipient, which name us.
    pytest.param(
        RCPT,
        r(550, "5.7.504 Recipient address rejected: Access denied"),
        NOUSER,
        id="ms-5.7.504-recipient-not-valid",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(550, "5.7.505 Access denied, banned recipient"),
        DISABLED,
        id="ms-5.7.505-banned-recipient",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT, r(550, "5.7.506 Access denied, bad HELO"), BLOCKED, id="ms-5.7.506-bad-helo"
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(550, "5.7.507 Access denied, rejected by recipient"),
        BLOCKED,
        id="ms-5.7.507-our-ip-blocked-by-recipient-org",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(550, "5.7.508 Access denied, [2001:db8::7] has exceeded permitted limits within /64"),
        RATE,
        id="ms-5.7.508-limits",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(550, "5.7.509 Access denied, sending domain example.com does not pass DMARC"),
        POLICY,
        id="ms-5.7.509-dmarc",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(550, "5.7.510 Access denied, contoso.com does not accept email over IPv6"),
        BLOCKED,
        id="ms-5.7.510-ipv6",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(550, "5.7.512 Access denied, message must be RFC 5322 section 3.6.2 compliant"),
        POLICY,
        id="ms-5.7.512-rfc5322",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(
            550,
            "5.7.513 Service unavailable, Client host [192.0.2.7] blocked by example.com "
            "using Customer Block list (AS16012607)",
        ),
        BLOCKED,
        id="ms-5.7.513-customer-block-list",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(550, "5.7.515 Access denied, sending domain EXAMPLE.JP doesn't meet the required"),
        POLICY,
        id="ms-5.7.515-authentication-level",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(550, "5.7.501 Access denied, spam abuse detected"),
        POLICY,
        id="ms-5.7.501-spam-abuse",
    ),  # sisimai rhost/for-microsoft.go
    # A 5.1.1 whose text says why: the recipient's preferences (the mailbox exists).
    pytest.param(
        RCPT,
        r(
            550,
            "5.1.1 RCP-P2 postmaster.facebook.com/response_codes?ip=192.0.2.135#rcp Refused due "
            "to recipient preferences",
        ),
        POLICY,
        id="prefs-facebook-rcp-p2",
    ),  # sisimai test set; postmaster.facebook.com/response_codes
    pytest.param(
        RCPT, r(550, "5.7.1 Recipient doesn't want your mail"), POLICY, id="prefs-interia"
    ),  # pomoc.poczta.interia.pl ("has probably added you to a blocked list")
    pytest.param(
        RCPT, r(550, "Mail is rejected by recipients"), BLOCKED, id="prefs-qq-personal-blacklist"
    ),  # smtp.codes/qq
    # "Unavailable or access denied" in one breath: unknown.
    pytest.param(
        RCPT,
        r(550, "Mailbox unavailable or access denied"),
        RATE,
        id="unavailable-or-denied-qq",
    ),  # smtp.codes/qq (recipient receiving too much mail: temporarily closed)
    pytest.param(
        RCPT,
        r(550, "Mailbox unavailable or access denined"),
        RATE,
        id="unavailable-or-denied-tencent-misspelt",
    ),  # sisimai rhost/for-tencent.go
    # Full mailboxes worded as storage or message-count limits.
    pytest.param(
        RCPT,
        r(552, "<x@163.com>:Quota exceed the hard limit for user x@163.com"),
        FULL,
        id="full-163-hard-limit",
    ),  # tnet.hk bounce guide
    pytest.param(
        RCPT,
        r(552, "This person's account is exceeding their quota."),
        FULL,
        id="full-exceeding-their-quota",
    ),  # tnet.hk bounce guide
    pytest.param(
        RCPT,
        r(550, "user has too many messages on the server"),
        FULL,
        id="full-too-many-messages-on-server",
    ),  # sisimai reason/MailboxFull
    pytest.param(
        RCPT, r(452, "4.2.2 Mailbox size limit exceeded"), FULL, id="full-size-limit"
    ),  # sisimai reason/MailboxFull
    pytest.param(
        RCPT,
        r(550, "Account disabled temporarly for exceeding receiving limits"),
        FULL,
        id="full-receiving-limits-not-disabled",
    ),  # sisimai reason/MailboxFull
    pytest.param(
        RCPT,
        r(552, "5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]"),
        FULL,
        id="full-orange-417-despite-5.1.1",
    ),  # sisimai rhost/for-franceptt.go (code 417)
    pytest.param(RCPT, r(552, "Account is full"), FULL, id="full-yandex-account-is-full"),
    # yandex.com/support/mail/bounces/other.html
    pytest.param(
        RCPT,
        r(552, "Error writing message: Disk quota exceeded"),
        FULL,
        id="full-yandex-disk-quota",
    ),  # yandex.com/support/mail/bounces/other.html
    pytest.param(
        RCPT, r(451, "domain.ru prohibited. Disk quota exceeded"), FULL, id="full-nicru-451"
    ),  # nic.ru mail diagnostics
    pytest.param(
        RCPT,
        r(550, "5.2.121 Recipient's per hour message receive limit from specific sender exceeded"),
        POLICY,
        id="ms-5.2.121-our-sender-over-the-limit-is-about-us",
    ),  # sisimai rhost/for-microsoft.go
    pytest.param(
        RCPT,
        r(432, "4.3.2 STOREDRV.Deliver; recipient thread limit exceeded"),
        RATE,
        id="busy-ms-recipient-thread-limit",
    ),  # sisimai rhost/for-microsoft.go; Exchange Online NDR table
    pytest.param(
        RCPT,
        r(552, "Recipient rejected: mailbox would exceed maximum allowed storage"),
        FULL,
        id="full-would-exceed-storage",
    ),  # sisimai reason/MailboxFull
    pytest.param(
        RCPT, r(552, "The user's space has been used up."), FULL, id="full-space-used-up"
    ),  # sisimai reason/MailboxFull
    # OpenSMTPD's own reply to a recipient missing from its virtual table.
    pytest.param(
        RCPT,
        r(524, "5.2.4 Mailing list expansion problem: <nobody@shop4.test>"),
        NOUSER,
        id="nouser-opensmtpd-virtual-table-miss",
    ),  # OpenSMTPD 6.8.0p2 (Debian 12), tests/interop/test_opensmtpd.py
    # Limits on us, worded as counts: still about us.
    pytest.param(
        RCPT, r(451, "out of allow RCPT numbers."), RATE, id="rate-sina-rcpt-numbers"
    ),  # blog.sina.com.cn Coremail reply list
    pytest.param(GREETING, r(550, "black ip."), BLOCKED, id="blocked-sina-black-ip"),
    # blog.sina.com.cn Coremail reply list
]


@pytest.mark.parametrize(("phase", "reply", "expected"), CATALOGUE)
def test_catalogue(phase: Phase, reply: Reply, expected: tuple[Verdict, Reason]) -> None:
    assert said(classify_reply(phase, reply)) == expected


def catalogue_by_family() -> Counter[str]:
    """How many catalogue lines each reason has (issue 19 reports it before and after)."""
    return Counter(cast("tuple[Verdict, Reason]", case.values[2])[1].value for case in CATALOGUE)


def test_catalogue_is_large_enough() -> None:
    assert len(CATALOGUE) >= 120
    families = catalogue_by_family()
    assert families["mailbox_disabled"] >= 15
    assert families["mailbox_full"] >= 12
    assert families["mailbox_not_found"] >= 40


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
    # Issue 19: wordings of the families above that are not quoted lines of a source.
    pytest.param(RCPT, r(550, "用户帐号已被冻结"), DISABLED, id="chinese-frozen"),
    pytest.param(RCPT, r(550, "该用户未开通QQ邮箱"), DISABLED, id="chinese-not-activated"),
    pytest.param(RCPT, r(550, "该用户不存在"), NOUSER, id="chinese-does-not-exist"),
    pytest.param(RCPT, r(552, "收件人空间不足"), FULL, id="chinese-no-space"),
    pytest.param(GREETING, r(554, "发信IP被禁止"), BLOCKED, id="chinese-words-at-greeting"),
    pytest.param(RCPT, r(550, "5.2.1 Account expired"), DISABLED, id="account-expired"),
    pytest.param(RCPT, r(550, "Mailbox not activated"), DISABLED, id="not-activated"),
    pytest.param(RCPT, r(550, "Message expired"), UNRECOGNIZED, id="message-expired-is-not"),
    pytest.param(
        RCPT,
        r(550, "5.1.1 RCP-P3 The attempted recipient's privacy settings blocked the delivery"),
        POLICY,
        id="recipient-privacy-settings",
    ),
    pytest.param(
        RCPT,
        r(550, "5.2.122 Recipient's per hour message receive limit exceeded"),
        FULL,
        id="ms-per-hour-receive-limit-5xx",
    ),
    pytest.param(
        RCPT,
        r(452, "4.5.3 Too many messages in this connection"),
        RATE,
        id="too-many-messages-in-a-session-is-about-us",
    ),
    pytest.param(
        RCPT,
        r(550, "The recipient has blocked your address"),
        UNRECOGNIZED,
        id="recipient-blocked-us-is-not-disabled",
    ),
    pytest.param(RCPT, r(501, "5.5.4 Syntax: RCPT TO:<address>"), UNRECOGNIZED, id="501-syntax"),
    pytest.param(
        RCPT, r(450, "4.2.4 Mailing list expansion problem"), TEMP, id="sendmail-4.2.4-list"
    ),
    pytest.param(
        RCPT, r(550, "5.2.4 Mailing list expansion problem"), UNRECOGNIZED, id="5.2.4-not-524"
    ),
    pytest.param(MAIL, r(501, "Bad address syntax"), POLICY, id="501-bad-address-at-mail"),
    pytest.param(RCPT, r(451, "Bad address syntax"), TEMP, id="bad-address-syntax-4xx"),
    pytest.param(
        RCPT, r(552, "5.3.4 Message exceeded the size limit"), UNRECOGNIZED, id="message-size"
    ),
    pytest.param(
        RCPT,
        r(550, "Maximum number of messages per connection exceeded"),
        RATE,
        id="messages-per-connection-is-not-full",
    ),
    pytest.param(RCPT, r(452, "邮件队列已满"), TEMP, id="chinese-queue-full-is-not-mailbox"),
    pytest.param(RCPT, r(552, "邮箱已满"), FULL, id="chinese-mailbox-full"),
    # A rule about us still wins over every new mailbox wording in the same reply.
    pytest.param(
        RCPT,
        r(550, "5.2.1 Mailbox is frozen; client host [192.0.2.7] blocked using Spamhaus"),
        BLOCKED,
        id="blocklist-beats-frozen",
    ),
    pytest.param(
        RCPT,
        r(550, "Mailbox unavailable or access denied: your IP is listed on our block list"),
        BLOCKED,
        id="blocklist-beats-unavailable-or-denied",
    ),
    pytest.param(
        RCPT,
        r(552, "Quota exceeded for sender; rate limited"),
        RATE,
        id="rate-limit-beats-quota",
    ),
    pytest.param(
        RCPT,
        r(550, "5.7.505 Access denied, banned recipient. Sender address rejected"),
        POLICY,
        id="sender-beats-banned-recipient",
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
