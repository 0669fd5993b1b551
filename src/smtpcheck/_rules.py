"""What SMTP reply wordings and status codes mean, as data for :mod:`smtpcheck._classify`.

Two ordered tables, each read top to bottom, the first matching entry winning:

* :data:`TEXT_RULES`: a regular expression searched in the reply's text (lower-cased,
  whitespace collapsed, addresses such as ``<x@example.com>`` replaced by ``<address>`` so
  that a recipient called ``spam@`` or ``blocklist@`` cannot trip a rule), optionally
  limited to some basic codes or to one enhanced status code.
* :data:`STATUS_RULES`: an RFC 3463 enhanced status code pattern such as ``X.1.1`` (any
  class) or ``4.3.*`` (class 4, subject 3, any detail), consulted when no text rule matched.

An entry *means* either a :class:`~smtpcheck._result.Reason` (the reply is about us, the
server or the session: the verdict is ``unknown``) or a :class:`Mailbox` fact (the reply is
about the mailbox; it counts only for a reply to ``RCPT TO``, and the code class then decides
how sure it is). The order of :data:`TEXT_RULES` is the policy:

1. signals that the refusal is aimed at *us* (rate limits, blocklists, our IP, reverse DNS,
   HELO, sender, relaying, authentication, TLS, SMTPUTF8, spam and policy filters) come
   first, so that they beat any mailbox wording in the same reply (the cardinal rule);
2. then provider rules and mailbox wordings, disabled before full before not found;
3. then weak or temporary wordings (``access denied``, greylisting, busy servers), which
   only count when nothing above explained the reply.

Every entry names where its wording comes from; ``replies.md #N`` is the catalogue of real
reply lines in the project's shared data.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TypeAlias

from smtpcheck._result import Reason
from smtpcheck.protocol._reply import EnhancedStatus

__all__ = ["STATUS_RULES", "TEXT_RULES", "Mailbox", "Meaning", "StatusRule", "TextRule"]


class Mailbox(enum.Enum):
    """What a reply to ``RCPT TO`` can say about the mailbox itself."""

    #: There is no such mailbox.
    NOT_FOUND = "not_found"
    #: The mailbox exists but is disabled, inactive or suspended.
    DISABLED = "disabled"
    #: The mailbox exists but is over its quota.
    FULL = "full"
    #: The mailbox exists but receives mail too fast to take more now (Gmail's 4.2.1).
    BUSY = "busy"


#: What an entry means: about us, the server or the session (a Reason), or the mailbox.
Meaning: TypeAlias = Reason | Mailbox


@dataclass(frozen=True, slots=True)
class TextRule:
    """A wording and what it means.

    Attributes:
        pattern: Searched in the normalised, lower-cased text of the reply.
        means: What a match means.
        source: Where the wording comes from.
        codes: The basic reply codes the rule applies to; empty for any code.
        status: The enhanced status code the reply must carry, or None for any.
    """

    pattern: re.Pattern[str]
    means: Meaning
    source: str
    codes: frozenset[int] = frozenset()
    status: EnhancedStatus | None = None


@dataclass(frozen=True, slots=True)
class StatusRule:
    """An RFC 3463 enhanced status code pattern and what it means.

    Attributes:
        klass: 4 or 5, or None for either.
        subject: The subject.
        detail: The detail, or None for any.
        means: What a match means.
        source: Where the meaning comes from.
    """

    klass: int | None
    subject: int
    detail: int | None
    means: Meaning
    source: str


def _text(
    regex: str,
    means: Meaning,
    source: str,
    *,
    codes: tuple[int, ...] = (),
    status: str | None = None,
) -> TextRule:
    return TextRule(
        re.compile(regex),
        means,
        source,
        frozenset(codes),
        EnhancedStatus.parse(status) if status is not None else None,
    )


def _status(code: str, means: Meaning, source: str) -> StatusRule:
    klass, subject, detail = code.split(".")
    return StatusRule(
        None if klass == "X" else int(klass),
        int(subject),
        None if detail == "*" else int(detail),
        means,
        source,
    )


_R = Reason
_M = Mailbox

TEXT_RULES: tuple[TextRule, ...] = (
    # --- 1. About us: these beat any mailbox wording in the same reply. ---
    # Rate limits and throttling of our IP or session.
    _text(
        r"unusual rate|unexpected volume", _R.RATE_LIMITED, "Gmail 4.7.28, Yahoo TSS04 (#10, #18)"
    ),
    _text(
        r"rate.?limit|throttl|\brate\b.{0,20}\bexceeded|exceeded permitted limits",
        _R.RATE_LIMITED,
        "Outlook 4.7.650 (#30); Office 365 5.7.508 (sisimai rhost/for-microsoft.go)",
    ),
    # "Too many messages on the server" is a full mailbox (below), not a limit on us.
    _text(
        r"too many\b(?! messages (on|in) (the|this|his|her|their|your)"
        r" (server|mailbox|inbox|folder))"
        r"|out of allow(ed)? rcpt numbers|\b(messages|recipients) per (connection|session)\b",
        _R.RATE_LIMITED,
        "Outlook 4.5.3 (#32); RFC 5321 4.5.3.1.10; Sina/Coremail 451 'out of allow RCPT numbers'",
    ),
    _text(
        r"connections? (limit|rate)|concurrent (connections|sessions)"
        r"|maximum (number of )?connections",
        _R.RATE_LIMITED,
        "Postfix anvil, Exim smtp_accept_max_per_host",
    ),
    # Blocklists and reputation services.
    _text(
        r"spamhaus|spamcop|\bsorbs\b|barracuda|cloudmark|senderscore|\bdnsbls?\b|\brbls?\b"
        r"|\b(block|black|deny) ?list(ed|ing)?\b|\bblocked using\b"
        r"|(?<!not )\blisted (at|in|on|by)\b|\bblack (ip|mail address)\b",
        _R.BLOCKED,
        "Outlook (#25, #27, #28), Yahoo (#19), Spamhaus (#36), Proofpoint (#37), "
        "Comcast (#41), GMX (#51), Sina/Coremail '550 black ip'",
    ),
    # Filters that name their refusal of our IP without the word "list".
    _text(
        r"\bbanned (sending ip|sender)\b|traffic not accepted from this ip"
        r"|not allowed to connect|\bblocked - see\b|ipcheck\.proofpoint",
        _R.BLOCKED,
        "Office 365 5.7.511 and 5.7.708, Proofpoint 'Blocked - see ipcheck'",
    ),
    # Office 365 5.7.507 (our IP blocked by the recipient's organisation), QQ Mail 'Mail is
    # rejected by recipients' (we are on the recipient's own block list), and 5.7.510 (the
    # domain takes no mail over IPv6, the family we came by): all about us.
    _text(
        r"\brejected by (the )?recipients?\b(?!'s)"
        r"|does not accept (e-?mail|mail|messages) over ipv6",
        _R.BLOCKED,
        "Office 365 5.7.507, 5.7.510 (sisimai rhost/for-microsoft.go); smtp.codes/qq",
    ),
    # Our IP address, client host name or reverse DNS.
    _text(
        r"\b(your|sending|source|client|remote) ip\b|\bip reputation\b"
        r"|\bip address\b.{0,60}\b(block|listed|reject|banned|not allowed|reputation)"
        r"|\bclient host\b.{0,60}\b(rejected|blocked|refused|denied|listed)"
        r"|not be accepted from|your (reverse )?host ?name",
        _R.BLOCKED,
        "Outlook 5.7.606 (#26), Orange (#50), Postfix reject_unknown_client_hostname",
    ),
    _text(
        r"\bptr\b|\breverse (dns|lookup|host ?name)|\bf?c?rdns\b",
        _R.BLOCKED,
        "Comcast (#42), web.de (#53), Gmail 5.7.25",
    ),
    # Our HELO/EHLO name (Postfix reports HELO restrictions at RCPT with smtpd_delay_reject).
    _text(r"\b(helo|ehlo)\b", _R.BLOCKED, "Gmail 5.5.4 (#13), Postfix reject_*_helo_hostname"),
    # Our sender: MAIL FROM, SPF, DKIM, DMARC.
    _text(
        r"\bsender\b|\b(spf|dkim|dmarc)\b",
        _R.POLICY_REJECTED,
        "Postfix 'Sender address rejected', Exim 'sender verify failed', Gmail 5.7.26",
    ),
    # Relaying, authentication and TLS: the server is not the domain's MX for us, or wants
    # a client that we are not.
    _text(
        r"\brelay(ing)? (access )?(is )?(denied|not (permitted|allowed)|prohibited|refused"
        r"|disabled)|\b(unable|not (permitted|allowed)|not able) to relay\b|\bno relaying\b"
        r"|\bwe do not relay\b",
        _R.POLICY_REJECTED,
        "Postfix 'Relay access denied', Exim, Sendmail 'Relaying denied'",
    ),
    _text(
        r"\bauthenticat(e|ion|ed)\b.{0,30}\b(required|first|needed)"
        r"|must (authenticate|be authenticated)|not authenticated",
        _R.POLICY_REJECTED,
        "RFC 4954 530 5.7.0; Exchange 5.7.57",
    ),
    _text(
        r"\b(start)?tls\b.{0,30}\b(required|first|needed)|must issue a starttls"
        r"|encryption (is )?required",
        _R.POLICY_REJECTED,
        "Gmail 421 4.7.0 (#11); Postfix 530 5.7.0 'Must issue a STARTTLS command first'",
    ),
    _text(
        r"smtputf8|\butf-?8\b|non-?ascii|internationali[sz]ed (address|e-?mail)",
        _R.SMTPUTF8_UNSUPPORTED,
        "RFC 6531 553 5.6.7 / 555 5.5.4",
    ),
    # Spam and policy filters.
    _text(r"\bspam", _R.POLICY_REJECTED, "content and reputation filters"),
    _text(
        r"administrative prohibition|allowed rcpthosts",
        _R.POLICY_REJECTED,
        "Exim's default ACL deny, Mimecast 'envelope blocked', qmail rcpthosts",
    ),
    _text(r"\bpolic(y|ies)\b", _R.POLICY_REJECTED, "Yandex (#45), Apple CS01 (#38), Gmail 5.7.1"),
    # The recipient's own settings refuse us: the mailbox exists, whatever the status code
    # (Facebook answers 550 5.1.1 RCP-P2 "Refused due to recipient preferences").
    _text(
        r"\b(recipient|user)('?s)? (preferences|privacy settings)",
        _R.POLICY_REJECTED,
        "Facebook RCP-P2/RCP-P3 (postmaster.facebook.com/response_codes; sisimai test set)",
    ),
    # --- 2. Provider rules and mailbox wordings: count only for RCPT. ---
    # Cisco Secure Email (IronPort): the default answer of its LDAP accept query, which
    # refuses recipients missing from the directory.
    _text(r"^#5\.1\.0 address rejected", _M.NOT_FOUND, "Cisco IronPort LDAP accept", codes=(550,)),
    # Office 365 directory-based edge blocking: 5.4.1 "Access denied" means no such user.
    _text(r"access denied", _M.NOT_FOUND, "Office 365 5.4.1 (#23, #24)", status="5.4.1"),
    # Office 365's recipient-access codes that name the recipient: 5.7.504 "Recipient
    # address rejected: Access denied" (the address is not valid) and 5.7.505 "Access
    # denied, banned recipient". The ones that name us are above (5.7.506 HELO, 5.7.507,
    # 5.7.508, 5.7.510, 5.7.511) or policy (5.7.501-503, 5.7.509, 5.7.512, 5.7.515).
    _text(r"access denied", _M.NOT_FOUND, "Office 365 5.7.504 (sisimai)", status="5.7.504"),
    _text(r"\bbanned recipient\b", _M.DISABLED, "Office 365 5.7.505 (sisimai)"),
    # QQ Mail: "Mailbox unavailable or access denied" means the recipient received too much
    # mail in a short time and is closed to senders for a while: it exists.
    _text(
        r"unavailable or access deni?n?ed",
        _R.RATE_LIMITED,
        "smtp.codes/qq; sisimai rhost/for-tencent.go (Speeding)",
    ),
    # Gmail: the mailbox exists but receives mail too fast (ReceivingRate, 4.2.1 / 5.2.1);
    # Exchange: the recipient's per-hour receive limit and thread limit.
    _text(
        r"receiving mail at a rate|per hour message receive limit|recipient thread limit",
        _M.BUSY,
        "Gmail (#8, #9); Exchange 5.2.121/5.2.122, 4.3.2 STOREDRV (sisimai)",
    ),
    # Full mailboxes worded as limits on storage or on the number of messages. Before the
    # disabled wordings: "account disabled temporarily for exceeding receiving limits".
    _text(
        r"exceed(ed|s|ing)? (its |the |their |his |her )?(receiving|storage|disk|mailbox)"
        r" (limits?|quota|space)|disabled temporar(il)?ly for exceeding"
        r"|too many messages (on|in) (the|this|his|her|their|your) (server|mailbox|inbox|folder)"
        r"|(mailbox|folder) size limit",
        _M.FULL,
        "sisimai reason/MailboxFull ('user has too many messages on the server', 'mailbox size"
        " limit exceeded', 'account disabled temporarly for exceeding receiving limits')",
    ),
    _text(
        r"\b(disabled|deactivated|inactive|inactivity|suspended|suspend the service)\b"
        r"|\b(account|mailbox|user|recipient|inbox)\b( account)?( is| has been| was| had been)?"
        r"( (temporarily|temporary|permanently|currently|now))? (locked|frozen|blocked|expired"
        r"|archived|terminated|discontinued|closed|cancell?ed|not (yet )?activated|not active)\b"
        r"|\bisblocked\b|\barchived (recipient|mailbox|account)|temporar(il)?y locked"
        r"|(compte|boite) du destinataire (est )?(bloque|archivee|desactive|suspendu)"
        r"|no longer accepts mail"
        r"|(帐号|帳號|账号|账户|用户|用戶|邮箱|郵箱)(已)?(被)?(禁用|冻结|凍結|锁定|鎖定|锁|鎖|停用)|未开通",
        _M.DISABLED,
        "Gmail DisabledUser (#3, #6), Yahoo (#15), mail.ru (#46), free.fr (#47), hanmail (#48);"
        " sisimai reason/Suspend (QQ 'deactivated mailbox', 163 'User suspended', 'mailbox is"
        " frozen', 'user is terminated', 'temporary locked'); Orange 420/426 (sisimai"
        " rhost/for-franceptt.go); Sina/Coremail 'user is locked'; tnet.hk bounce guide (禁用,"
        " 凍結); qqmailbox.com bounce guide (未开通)",
    ),
    _text(
        r"over ?quota|quota (exceeded|full|exceed)|exceed(ed|s|ing)? (its |the |their )?"
        r"(storage|quota)|out of storage|(mailbox|inbox|account|mailfolder)( is)? full"
        r"|full mailbox|storage allocation|not (enough|sufficient) (disk |storage )?space"
        r"|(does not|doesn't) have enough (disk |storage )?space|space has been used up"
        r"|would exceed (the )?maximum allowed storage|boite (du destinataire )?pleine"
        r"|空间不足|空間不夠|(邮箱|郵箱|信箱|空间)已满",
        _M.FULL,
        "Gmail OverQuota (#4, #5, #7), iCloud (#35), RFC 5321 552; sisimai reason/MailboxFull;"
        " 163 'Quota exceed the hard limit' (tnet.hk); Yandex 'Account is full'; Orange 417;"
        " qqmailbox.com bounce guide (空间不足)",
    ),
    _text(
        r"no such (user|mailbox|recipient|account|address|person)"
        r"|\b(user|recipient|mailbox|addressee|address|account)( name)?( <address>:?)?( is)?"
        r" (unknown|not found|invalid|unavailable|unavaiable|not exists?)"
        r"|unknown (user|recipient|mailbox|address|local.?part|e-?mail address|alias"
        r"|or illegal alias)|recipient ?not ?found|unavailable mail user"
        r"|mailbox\b.{0,40}\bunknown|(does not|doesn't|did not|don't|do not|not|does no) exists?"
        r"|not (a )?(valid )?user (of|on|at) this (server|system|domain|host)"
        r"|\bbad (recipient|destination mailbox) address\b|#5\.1\.1 bad address"
        r"|(utilisateur|destinataire) inconnu|adresse (du destinataire )?(invalide|inconnue)"
        r"|nessun utente simile|no existe (dicha persona|ese usuario)|nicht gefunden"
        r"|不存在"
        r"|(does not|doesn't) have an? \S+ account|invalid (recipient|mailbox|address|user)"
        r"|not an? valid (recipient|mailbox|address|user|rfc.?5321)|unroute?able address"
        r"|not our customer|unallocated|could not be found|no longer (valid|available|exists?)"
        r"|no mailbox|destinataire invalide",
        _M.NOT_FOUND,
        "Gmail NoSuchUser (#1, #2, #12), Outlook/web.de 'mailbox unavailable' (#21, #22, #52),"
        " iCloud (#34), Comcast (#39, #40), AT&T (#43), Yandex (#44), Orange (#49), virginmedia"
        " (#54), Rackspace (#55), Facebook (#56), Postfix (#80, #81), Exim (#87), Yahoo (#14,"
        " #16), Exchange RecipientNotFound; sisimai reason/UserUnknown; 163, QQ and Coremail"
        " lines of dbmailserver.com's bounce list; icoremail.vip ('not user of this server');"
        " tnet.hk ('unknown or illegal alias'); sina blog Coremail codes (邮箱不存在)",
    ),
    # OpenSMTPD answers a recipient that its virtual table does not know (smtpd.conf(5)'s
    # virtual domain setup) with its own "524 5.2.4 Mailing list expansion problem"; the
    # same reply for a broken alias or .forward also means the mail would bounce.
    _text(
        r"mailing list expansion problem",
        _M.NOT_FOUND,
        "OpenSMTPD lka_session.c (LKA_PERMFAIL); tests/interop/test_opensmtpd.py",
        codes=(524,),
    ),
    # A 501 (or 553) to RCPT TO that says the address itself is malformed: the server will
    # never take it (QQ Mail '501 Bad address syntax'; our own syntax check let it through).
    _text(
        r"bad (recipient )?address syntax|(invalid|illegal|malformed) (recipient )?address"
        r"( syntax)?|address syntax (error|invalid)",
        _M.NOT_FOUND,
        "smtp.codes/qq '501 Bad address syntax'; sisimai rhost/for-tencent.go (SyntaxError)",
        codes=(501, 553),
    ),
    # --- 3. Weak and temporary wordings: only when nothing above explained the reply. ---
    _text(r"access denied", _R.POLICY_REJECTED, "Postfix check_recipient_access REJECT"),
    _text(r"gr[ae]y ?list|postgrey|sqlgrey", _R.GREYLISTED, "postgrey (#82), sqlgrey, greylistd"),
    _text(
        r"temporar(il)?y|server (is )?busy|insufficient (system )?(resources|storage)"
        r"|resources? (temporarily )?unavailable|system (is )?(busy|overloaded)",
        _R.TEMPORARY_FAILURE,
        "Outlook (#29, #31, #33), Yahoo (#20), RFC 5321 452",
    ),
    # A bare "try again later" at 450/451 is how greylisting usually reads (postgrey,
    # sqlgrey, greylistd); at 421 it is the server closing on us (Gmail 421 4.7.0).
    _text(
        r"\b(try|come back|retry)\b.{0,30}\blater\b",
        _R.GREYLISTED,
        "postgrey 451 4.7.1, greylistd",
        codes=(450, 451),
    ),
)

STATUS_RULES: tuple[StatusRule, ...] = (
    _status("X.1.1", _M.NOT_FOUND, "RFC 3463: bad destination mailbox address"),
    _status("X.1.2", _M.NOT_FOUND, "RFC 3463: bad destination system address (Gmail #12)"),
    _status("X.1.3", _M.NOT_FOUND, "RFC 3463: bad destination mailbox address syntax"),
    _status("X.1.6", _M.NOT_FOUND, "RFC 3463: destination mailbox moved, no forwarding"),
    _status("X.1.10", _M.NOT_FOUND, "RFC 7505 null MX; Exchange RecipientNotFound"),
    _status("X.1.7", _R.POLICY_REJECTED, "RFC 3463: bad sender's mailbox address syntax"),
    _status("X.1.8", _R.POLICY_REJECTED, "RFC 3463: bad sender's system address"),
    _status("X.2.1", _M.DISABLED, "RFC 3463: mailbox disabled"),
    _status("X.2.2", _M.FULL, "RFC 3463: mailbox full"),
    _status("4.3.*", _R.TEMPORARY_FAILURE, "RFC 3463: mail system status (Outlook #33)"),
    _status("4.4.*", _R.TEMPORARY_FAILURE, "RFC 3463: network and routing (Outlook #31)"),
    _status("X.5.3", _R.RATE_LIMITED, "RFC 3463: too many recipients (Outlook #32)"),
    _status("X.6.7", _R.SMTPUTF8_UNSUPPORTED, "RFC 6531: non-ASCII addresses not permitted"),
    _status("X.7.*", _R.POLICY_REJECTED, "RFC 3463: security or policy status"),
)
