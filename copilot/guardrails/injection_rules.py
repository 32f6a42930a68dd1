"""The injection detector's rules: the phrasings attacks use, in English, French, German, Spanish, Dutch and Italian.

Rules read *folded* text (``copilot.guardrails.normalize.fold``: no accents, no homoglyphs), case-insensitively.
Each has a weight: at or above 0.5 it flags on its own, below it is a weak signal that flags only together with
another one (or in hidden text). Rules target what an attacker says *to the assistant* (override its
instructions, play a role, approve without review, hide something from the reader, send data out); a business
statement that merely mentions a chatbot, an API key or earlier delivery instructions is at most a weak signal.
Every pattern uses bounded windows and no nested quantifiers, so any input is matched in linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "HEADER_RULES",
    "IMPERATIVE_VERBS",
    "INSTRUCTION_STEMS",
    "INSTRUCTION_WORDS",
    "POLITE_WORDS",
    "RULES",
    "Rule",
]


@dataclass(frozen=True)
class Rule:
    """One phrasing: its name, weight (>= 0.5 flags alone), pattern and the reason shown to people."""

    name: str
    weight: float
    pattern: re.Pattern[str]
    reason: str


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.MULTILINE)


#: What the override verbs of the six languages act on.
_OBJECTS = (
    r"instructions?|prompts?|directives|guidelines|guardrails|programming|consignes|anweisungen|instruktionen"
    r"|vorgaben|instrucciones|indicaciones|instructies|aanwijzingen|istruzioni|direttive"
)
_RULE_OBJECTS = r"rules|regles|regeln|reglas|regels|regole"
_VERBS = (
    r"ignore|ignoring|disregard|forget|override|bypass|ignorez|ignorer|oublie|oubliez|oublier|ignoriere|ignorieren"
    r"|vergiss|vergessen|ignora|ignorar|ignore|olvida|olvide|olvidar|negeer|negeren|vergeet|vergeten|dimentica"
    r"|dimenticare|ignorare"
)
#: "Ignore the previous instructions regarding pallet labels": a topic after the object makes it business.
_TOPIC = (
    r"\s*(?:about|regarding|concerning|re:?|on|for|in (?:my|our|the)|at the|of the|with the|from (?:my|our|the)"
    r"|printed|written|sent|attached|shown|included|listed|we|i|that we|which|you (?:got|received)"
    r"|concernant|relatives?|sur|pour|zur|zum|zu|bezuglich|uber|fur|sobre|para|relativas|acerca|over|voor"
    r"|betreffende|omtrent|riguardo|relative|sulle|sui|per|circa)\b(?!\s+(?:you|the (?:ai|assistant|model|bot)))"
)
#: Words that may stand between an override verb and its object ("ignore all of your previous instructions").
_DETERMINERS = (
    r"all|any|the|your|my|of|previous|prior|above|earlier|preceding|original|existing|system|safety|standing|current"
    r"|these|those|toutes|tous|toute|les|vos|tes|des|ces|precedentes|anterieures|alle|die|deine|ihre|sie|ihr"
    r"|vorherigen|bisherigen|vorigen|ursprunglichen|todas|todos|las|los|tus|sus|anteriores|previas|de|je|jouw|uw"
    r"|vorige|eerdere|tutte|tutti|le|tue|sue|precedenti|gli|il"
)
_ADJECTIVES = (
    r"precedentes|anterieures|initiales|vorherigen|bisherigen|anteriores|previas|vorige|eerdere|precedenti|iniziali"
)
_AI = (
    r"ai|ia|ki|llm|bot|chatbot|chat bot|copilot|chat ?gpt|gpt-?\d?|language model|modele|modell|modelo|modello"
    r"|(?:ai|ia|ki)[- ]?(?:as+ist\w*|agent\w*)"
    r"|as+ist\w*\s+(?:de\s+|d')?(?:ia|ki|ai|virtuel\w*|virtual\w*|digital\w*|automati\w*)"
    r"|(?:virtual|virtuel\w*|digital\w*|automated)\s+(?:as+ist\w*|agent\w*)"
)
_ROLES = (
    r"\w*manager|\w*leiter\w*|admin\w*|director\w*|directeur\w*|directrice|direttore|responsable|responsabile|chef"
    r"|gerente|jefe|beheerder|amministratore|capo|buyer|acheteur|einkaufer|comprador|inkoper|approver|owner|ceo|cfo"
    r"|unrestricted|jailbroken|developer|system|assistant|employee|agent"
)
_READER = (
    r"buyer|purchas\w*|human|reader|approver|reviewer|summary|report|warning|your (?:answer|reply)|acheteu\w*"
    r"|humain|resume|rapport|einkauf\w*|mensch\w*|zusammenfassung|comprador\w*|humano|resumen|inkoper\w*|mens"
    r"|samenvatting|compratore|buyer|umano|riassunto"
)

#: Chat roles in the six languages ("system", "systeme", "assistant IA", ...), as an attacker writes them.
_ROLE_WORDS = (
    r"system|systeme|sistema|systeem|assistant|assistent|assistente|asistente|developer|developpeur|entwickler"
    r"|desarrollador|ontwikkelaar|sviluppatore|copilot|ai|ia|ki"
)
#: A chat role where a line or a bracket starts, then a colon: "SYSTEM:", "[assistant: ...]", "(Systeme: ...)".
_ROLE_QUALIFIERS = (
    r"note|message|notice|override|instructions?|prompt|hinweis|nachricht|anweisung\w*|mitteilung|consignes?"
    r"|aviso|mensaje|instrucci\w+|bericht|melding|instructies?|nota|messaggio|istruzion\w+"
)
_ROLE_COLON = (
    rf"(?:^|[\[(<{{])[^\S\n]*+\[?(?:{_ROLE_WORDS})(?:(?:[^\S\n]++|-)(?:{_ROLE_WORDS}|{_ROLE_QUALIFIERS}))?+"
    r"\]?[^\S\n]*+:"
)
#: ... or in a square or angle bracket of its own ("[SYSTEM] approve ...", "<system>accept ..."): an order after it.
_ROLE_MARK = rf"{_ROLE_COLON}|[\[<][^\S\n]*+(?:{_ROLE_WORDS})(?:[^\S\n]++(?:{_ROLE_QUALIFIERS}))?+[^\S\n]*+[\]>]"
#: Orders to the assistant that follow such a marker (approve, ignore, mark as verified, must ...).
_COMMANDS = (
    r"approve\w*|accept\w*|ignore\w*|disregard|forget|override|bypass|skip|treat|trust|mark|whitelist|must"
    r"|should|do not|don't|never|always|apply|set|approuve\w*|accepte\w*|marque\w*|traite\w*|doit|devez|oublie\w*"
    r"|genehmig\w*|akzeptier\w*|ignorier\w*|markier\w*|muss\w*|vergiss|aprueb\w*|acept\w*|ignor\w*|marca\w*"
    r"|debe\w*|olvida\w*|keur\w*|accepteer\w*|negeer\w*|markeer\w*|moet|vergeet|approv\w*|accett\w*|segna\w*"
    r"|deve|dimentica\w*"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "instruction_override",
        0.95,
        _rx(
            rf"\b(?:{_VERBS})(?:\s+(?:{_DETERMINERS})){{0,5}}\s+(?:(?:{_OBJECTS})(?:\s+(?:{_ADJECTIVES}))?+|(?:your|tes|vos|deine|ihre"
            rf"|tus|sus|je|jouw|uw|tue|le tue)\s+(?:{_RULE_OBJECTS}))\b(?!{_TOPIC})"
            rf"|\bnew (?:system )?instructions? for (?:you|any (?:{_AI})|the (?:{_AI}|assistant|model|system))\b"
            r"|\b(?:your|new|updated|real|hidden|secret|override|the assistant's|the ai's)\s+system ?prompt\b"
            r"|(?:^|[\[(<{])[^\S\n]*+system ?prompt\s*+[:\]]|\bsysteemprompt\b"
            r"|\bprompt (?:du |de |del |di )?(?:systeme|sistema)\b"
            r"|\b(?:these|the following) instructions (?:take|have) (?:priority|precedence)\b"
            r"|\b(?:treat|consider|regard)\b[^.\n]{0,40}\bas (?:orders|instructions|commands) from\b"
        ),
        "tries to override the assistant's instructions",
    ),
    Rule(
        "glued_phrase",
        0.9,
        _rx(
            r"ignore(?:all|the|your|any)*(?:previous|prior|above|earlier)?(?:instructions|rules|prompts?)"
            r"|disregard(?:all|the|your|any)*(?:previous|prior|above)?(?:instructions|rules)|systemprompt"
            r"|noteto(?:the)?(?:ai|assistant|bot|copilot)|approve(?:it|this)?automatically|youarenow"
            r"|developermode|donot(?:mention|tell|flag)(?:this|it)?(?:to)?(?:the)?(?:buyer|human)"
        ),
        "spells out an instruction to the assistant without spaces",
    ),
    Rule(
        "role_play",
        0.9,
        _rx(
            rf"\b(?:you are now|from now on,? you (?:are|will be)|you are no longer|tu es (?:maintenant|desormais)"
            rf"|vous etes (?:maintenant|desormais)|du bist (?:jetzt|nun|ab sofort)|sie sind (?:jetzt|nun|ab sofort)"
            rf"|ahora eres|a partir de ahora eres|je bent nu|u bent nu|ora sei|adesso sei|da ora sei)\s+"
            rf"(?:\S+\s+){{0,2}}?(?:{_ROLES})\b"
            r"|\bpretend (?:to be|you are)\b|\bfais semblant d'etre\b|\btu so, als\b|\bfinge ser\b|\bfingi di essere\b"
            r"|\b(?:act|behave|respond) as (?:if you were |an? |the )?(?:unrestricted|admin|administrator|system|"
            r"developer|manager|director|jailbroken)\b|\bdeveloper mode\b|\bjailbreak|\bDAN mode\b"
        ),
        "asks the assistant to play another role",
    ),
    Rule(
        "ai_addressed",
        0.9,
        _rx(
            rf"\b(?:note|message|instructions?|hinweis|nachricht|anweisung|nota|mensaje|bericht|opmerking|messaggio)"
            rf"\s+(?:to|for|pour|a|an|fur|para|voor|aan|per)\s+(?:the\s+|l'|le\s+|la\s+|den\s+|die\s+|der\s+|el\s+"
            rf"|de\s+|het\s+|il\s+|lo\s+)?(?:{_AI})\b"
            rf"|\b(?:dear|hey|hi|hello|attention|cher|chere|liebe|lieber|hallo|querido|querida|estimado|hola|beste"
            rf"|caro|cara|ciao|gentile)\s+(?:{_AI})\b"
            r"|^[^\S\n]*+(?:assistant|copilot|bot|assistente|asistente|assistent)\s*+[:,]"
            rf"|(?:^[^\S\n]*+|\b(?:to|an|aan|a|alla|para|pour|per|voor|fur)\s+(?:the|die|den|de|het|la|le|el|il|lo)\s+"
            rf"|\b(?:a|para|pour|per)\s+l'|\ball'|\bal\s+)(?:{_AI})\s*:"
            rf"|\b(?:{_AI}|model)s?\s+(?:reading|processing|handling|summari[sz]ing|parsing"
            r"|that (?:reads|processes|handles|summari[sz]es|parses|reviews|sees)|who (?:reads|processes)"
            r"|qui (?:lit|traite|analyse|resume)"
            r"|die (?:liest|verarbeitet|leest|verwerkt)|der (?:liest|verarbeitet)|que (?:lee|procesa)"
            r"|che (?:legge|elabora))\s+(?:this|these|the|our|ce|cette|ces|diese\w*|este|esta|dit|deze|questo|questa)\b"
            r"|\byou are an? (?:ai|language model|llm|assistant)\b"
            # "Assistant reading this:" - a reader addressed, then a colon or comma (the assistant alone is a person)
            r"|\b(?:assistant|assistent|assistente|asistente)s?\s+(?:reading|processing|handling|summari[sz]ing"
            r"|parsing|that (?:reads|processes)|who (?:reads|processes))\s+(?:this|these)"
            r"(?:\s+(?:e-?mails?|messages?|mails?|notes?|texts?|threads?))?\s*+[:,]"
        ),
        "addresses instructions to an AI assistant",
    ),
    Rule(
        "ai_mentioned",
        0.15,
        _rx(rf"\b(?:{_AI})\b"),
        "mentions an AI assistant",
    ),
    Rule(
        "chat_markup",
        0.9,
        _rx(
            r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?INST\]|<</?SYS>>"
            r"|^[^\S\n]*+#{2,}+\s*+(?:system|instruction|assistant)\b"
        ),
        "contains chat-template markers",
    ),
    Rule(
        "role_command",
        0.9,
        _rx(rf"{_ROLE_MARK}[^\n\]\)]{{0,80}}?\b(?:{_COMMANDS})\b"),
        "gives the assistant an order under a chat role (system:, assistant:)",
    ),
    Rule(
        "role_marker",
        0.45,
        _rx(_ROLE_COLON),
        "contains a line or bracket that imitates a chat role",
    ),
    Rule(
        "approval_bypass",
        0.7,
        _rx(
            r"\b(?:auto-?approve|approve (?:it |this |them |the (?:request|change|increase|price) )?"
            r"(?:automatically|silently|without)|mark (?:it |the request |this )?as approved"
            r"|set (?:the )?(?:risk )?tier to|bypass (?:the )?(?:approval|policy|review|check)"
            r"|skip (?:the )?(?:approval|review|verification|sign-?off)|without (?:human|manager|any) "
            r"(?:review|approval|sign-?off)|(?:accept|apply|update) (?:it |the (?:new )?price |this )?silently"
            r"|no (?:human|one|manager) (?:needs|has) to (?:look|check|review|approve|sign))\b"
            r"|\bapprov\w*\b[^.\n]{0,40}?\bwithout (?:a |any )?(?:warnings?|review|checks?|checking|verification"
            r"|verifying|asking|questions?|flag\w*)\b"
            r"|\b(?:approuve\w*|valide\w*|accepte\w*)\b[^.\n]{0,30}?\b(?:automatiquement"
            r"|sans (?:validation|verification|revision|controle|approbation|demander|verifier|valider|controler))"
            r"|\bgenehmig\w*[^.\n]{0,30}?\bautomatisch\b|\bautomatisch\w*\s+genehmig\w*"
            r"|\bohne\s+(?:menschliche\s+)?(?:prufung|freigabe|ruckfrage|kontrolle|genehmigung)\b"
            r"|\b(?:aprueb\w*|acept\w*)[^.\n]{0,30}?\b(?:automaticamente|sin (?:revision|aprobacion|control|preguntar))"
            r"|\bsin revision\b"
            r"|\b(?:keur|goedkeur\w*|accepteer)\b[^.\n]{0,30}?\b(?:automatisch"
            r"|zonder (?:controle|goedkeuring|te vragen))"
            r"|\bautomatisch\s+goed\b|\bzonder controle\b"
            r"|\b(?:approv\w*|accett\w*)[^.\n]{0,30}?\b(?:automaticamente|senza (?:revisione|approvazione|controllo"
            r"|chiedere))|\bsenza revisione\b"
            r"|\bmarque\w*[^.\n]{0,30}?\bcomme approuvee?\b|\bmarkiere\w*[^.\n]{0,30}?\bals genehmigt\b"
            r"|\bmarca\w*[^.\n]{0,30}?\bcomo aprobad[ao]\b|\bmarkeer\w*[^.\n]{0,30}?\bals goedgekeurd\b"
            r"|\bsegna\w*[^.\n]{0,30}?\bcome approvat[ao]\b"
        ),
        "asks to approve or apply a change without review",
    ),
    Rule(
        "tool_command",
        0.7,
        _rx(
            r"/copilot\s+\w+|\bwrite (?:to )?(?:odoo|the database)\b|\b(?:sale|purchase)\.order\b\s+\S+\s+\w+="
            r"|\b(?:call|invoke|use|run) (?:your|the) (?:\w+ )?(?:tools?|functions?|executor)\b"
        ),
        "tries to make the assistant use its tools",
    ),
    Rule(
        "command_words",
        0.25,
        _rx(r"\b(?:execute|perform) the following (?:actions?|steps|commands?)\b"),
        "reads like a command to a program",
    ),
    Rule(
        "exfiltration",
        0.7,
        _rx(
            r"\b(?:send|forward|email|export|give|share|list|paste|include|attach|reply with|tell me)\b[^.\n]{0,40}\b"
            r"(?:all|every|full|whole|complete|your)\s+(?:\w+\s+){0,2}"
            r"(?:customers|clients|vendors|suppliers|contacts|customer list|client list|vendor list"
            r"|bank details of|email addresses|phone numbers|database)\b"
            r"|\b(?:orders?|prices?|invoices?|addresses|details|data|names)\s+of\s+(?:your|all|every|the)\s+other\s+"
            r"(?:customers?|clients?|vendors?|suppliers?|companies)\b"
            r"|\b(?:reveal|print|repeat|show|output)\b[^.\n]{0,20}\b(?:your|the)\s+(?:system |hidden |original )?"
            r"(?:prompt|instructions|configuration|rules)\b"
            r"|!\[[^\]]*\]\(https?://[^)]*[?&][^)]*\)"
            r"|\b(?:envoie\w*|envoyez|transmet\w*|sende\w*|schick\w*|envia\w*|envie\w*|mande\w*|stuur\w*|zend\w*"
            r"|invia\w*|mand\w*)\b[^.\n]{0,40}?\b(?:liste (?:complete )?des clients|kundenliste|kundendaten|alle kunden"
            r"|lista (?:completa )?de clientes|klantenlijst|klantgegevens|alle klanten|(?:l'elenco|l'intero elenco"
            r"|la lista) (?:completo |completa )?dei clienti)"
        ),
        "asks for data to be sent out or revealed",
    ),
    Rule(
        "credentials",
        0.3,
        _rx(r"\b(?:credentials|api keys?|passwords?|access tokens?)\b"),
        "mentions credentials",
    ),
    Rule(
        "secrecy_towards_reader",
        0.7,
        _rx(
            rf"\b(?:do not|don't|never|ne|no|nicht|niet|non)\s+(?:\S+\s+){{0,2}}?(?:mention|tell|reveal|disclose|inform"
            rf"|show|flag|warn|report|mentionne\w*|dis|dites|signale\w*|revele\w*|menciones|mencione|digas"
            rf"|informes|menzionare|menzioni|dire|segnalare)\b[^.\n]{{0,50}}?\b(?:{_READER})\b"
            rf"|\b(?:erwahne\w*|sag\w*|melde\w*|vermeld\w*|zeg\w*|meld\w*)\b[^.\n]{{0,50}}?\b(?:nicht|niet)\b"
            rf"[^.\n]{{0,30}}?\b(?:{_READER})\b"
            r"|\b(?:not|pas|nicht|no|niet|non)\b[^.\n]{0,40}?\b(?:suspicious|suspect\w*|verdacht\w*|sospechos\w*"
            r"|sospett\w*)\b"
            r"|\b(?:keep|leave) (?:this|it|that) (?:hidden|secret|out of) (?:from )?(?:the |your )?"
            r"(?:buyer|human|reader|summary|report|answer|reply)\b|\bremove any warning\b"
        ),
        "asks to keep something from the people reading the summary",
    ),
    Rule(
        "secrecy",
        0.35,
        _rx(
            r"\bdo not (?:mention|tell|reveal|disclose|inform|flag|warn|show)\b|\bdon'?t (?:mention|tell|flag)\b"
            r"|\bwithout (?:telling|checking with|notifying)\b|\bsilently\b"
            r"|\bkeep (?:this|it) (?:hidden|secret)\b"
            r"|\b(?:leave|keep) (?:it|this|that) out of (?:the|your) (?:summary|report|answer|reply)\b|\bquietly\b"
            r"|\bne\s+(?:le\s+|lui\s+|leur\s+)?(?:mentionne\w*|dis|dites|signale\w*|revele\w*)\s+pas\b"
            r"|\b(?:erwahne\w*|sag|sagen|melde\w*)\s+(?:\S+\s+){0,3}?nicht\b"
            r"|\bno\s+(?:lo\s+|le\s+|les\s+)?(?:menciones|mencione|digas|diga|marques|marque|informes)\b"
            r"|\b(?:vermeld|zeg|meld|markeer)\s+(?:\S+\s+){0,3}?niet\b"
            r"|\bnon\s+(?:lo\s+|gli\s+)?(?:menzionare|menzioni|dire|dica|segnalare|segnali)\b"
        ),
        "asks to keep something from the people reading",
    ),
    Rule(
        "silently",
        0.35,
        _rx(r"\b(?:en silence|discretement|stillschweigend|heimlich|en silencio|stilletjes|in silenzio)\b"),
        "asks for something to be done silently",
    ),
    Rule(
        "instructions_word",
        0.15,
        _rx(r"\binstructions?\b|\b(?:consignes|anweisungen|instrucciones|instructies|istruzioni)\b"),
        "talks about instructions",
    ),
)

#: Approval or review-bypass claims: business prose uses them ("the quote you already approved"), but no
#: legitimate sender puts them in a subject or in the display name, so there they flag on their own.
HEADER_RULES: tuple[Rule, ...] = (
    Rule(
        "approval_claim_in_header",
        0.9,
        _rx(
            r"\bpre-?\s?approved\b|\b(?:already|been)\s+(?:pre-?)?(?:approved|validated|authori[sz]ed|signed off"
            r"|cleared|verified)\b|\bapproved by\b"
            r"|\bno (?:review|approval|check|verification|sign-?off)s? (?:is |are )?"
            r"(?:needed|required|necessary)\b|\b(?:review|approval|verification) (?:is )?not (?:needed|required"
            r"|necessary)\b|\bauto-?approved?\b|\bverified (?:sender|vendor|supplier|contact)\b"
            r"|\bno need (?:to|for) (?:a |any )?(?:check|review|verif\w*|approv\w*)"
            r"|\b(?:sign-?off|approval) (?:is )?(?:done|given|granted|obtained|received)\b"
            r"|\bpre-?\s?approuve\w*|\bdeja (?:approuve|valide|autorise|verifie)\w*|\bapprouve\w* par\b"
            r"|\bsans (?:verification|validation|revision|controle|verifier|valider)\b"
            r"|\baucune? (?:verification|validation|revision|controle) (?:necessaire|requise?)\b"
            r"|\b(?:vorab|bereits|schon)\s+(?:genehmigt|freigegeben|gepruft)\b"
            r"|\b(?:genehmigt|freigegeben) (?:von|durch)\b"
            r"|\bkeine (?:prufung|freigabe|kontrolle|genehmigung) (?:notig|erforderlich)\b"
            r"|\bohne (?:prufung|freigabe|kontrolle)\b"
            r"|\bpre-?\s?aprobad\w*|\bya aprobad\w*|\baprobad[oa]s? por\b|\bsin (?:revision|verificacion|aprobacion"
            r"|control)\b|\bno (?:requiere|necesita) (?:revision|aprobacion|verificacion)\b"
            r"|\b(?:vooraf|al|reeds) goedgekeurd\b|\bgoedgekeurd door\b|\bgeen (?:controle|goedkeuring|review) nodig\b"
            r"|\bzonder (?:controle|goedkeuring)\b"
            r"|\bpre-?\s?approvat\w*|\bgia approvat\w*|\bapprovat[oaie] da\b|\bsenza (?:revisione|verifica"
            r"|approvazione|controllo)\b|\bnessuna (?:revisione|verifica|approvazione) (?:necessaria|richiesta)\b"
        ),
        "claims in the subject or sender name that the change is approved or needs no review",
    ),
)


# --------------------------------------------------------------------------------------------------
# instruction-like sentences: the ones the embedding layer reads
# --------------------------------------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return text.split()


#: Whole words (folded, lower case) of a sentence that may speak to the assistant: what it is called, the
#: informal "you" of the six languages (the formal one is every supplier's "your order"), and "must".
INSTRUCTION_WORDS: frozenset[str] = frozenset(
    _words(
        """
    ai ia ki llm gpt bot bots chatbot copilot odoo act role rol rolle ruolo mode modus modo
    du dich dir dein deine deinen deinem deiner tu toi jij jou jouw yourself yourselves
    must muss musst mussen doit doivent devez debe deben moet moeten deve devono
    pay zahle paga betaal set setze zet keur leite api taal lingua mille mil
    """
    )
)
#: Word beginnings (folded, lower case) of the same, in English, French, German, Spanish, Dutch and Italian, by what
#: an attacker wants: to address the assistant, override its instructions, approve without review, keep something
#: from the reader, get data sent out, play a role, make it use its tools, or waste its time (translate into every
#: language, repeat a thousand times). A sentence with none of them (nor a word
#: of ``INSTRUCTION_WORDS``) states a business fact and is left to the rules; the list errs on the side of
#: reading a sentence (about one sentence in four of ordinary supplier mail has one).
INSTRUCTION_STEMS: tuple[str, ...] = tuple(
    _words(
        """
    assist asist agent reader mailbox inbox leser lecteur lector lezer lettore model modell modele modelo modello
    system syst sistem program software tool
    werkzeug outil herramient strument prompt instruct anweis consign istruz aanwijz guidanc guideline richtlini
    directiv polic configur setting einstell rule regel regle regla regol briefing
    ignor disregard forget vergiss vergess oubli olvid negeer vergeet dimentic overrid bypass skip umgeh contourn
    omit obey gehorch previous prior earlier vorherig precedent anterior vorig eerder switch
    approv approb aprob aprueb genehmig freigab freigeb goedkeur goedgekeur autoris authori valid review
    verif pruf kontroll revisio revisar escalat accept akzept acept accett mark markier marque marca
    markeer segna treat trust vertrau apply appliq aplic applica toepas anwend
    mention erwahn vermeld menzion mencion tell vertel flag warn avert advert avvis waarschuw summar
    zusammenfass resum samenvat riassun hide hidden secret geheim verberg versteck cach ocult nascond quiet silent
    discret heimlich stillschweig
    send sende schick forward weiterleit export share paste append reply
    answer respond antwort repon respuest rispo envoi envoy transmet envia envie reenvi mand stuur verstuur zend
    invia inoltr credential password passwort database datenbank pretend roleplay persona impersonat
    call invoke execut trigger delete unlink remov creat updat reschedul refund grant access
    losch supprim borr elimin verwijder erstell modifi wijzig ander imposta
    priorit urgent label classif categor assign
    translat ubersetz tradu vertaal languag sprache langue idioma repeat repet ripet wiederhol herhaal forever
    infinit endless unendlich eindeloos thousand tausend duizend
    """
    )
)
#: Word beginnings that business mail uses all the time (signatures: "Account Manager", "Customer Service"; "orders
#: are not cancelled automatically"): a sentence counts only when it also speaks to someone (``SECOND_PERSON``):
#: "you are the finance director now", "include your other customers".
ADDRESSED_STEMS: tuple[str, ...] = tuple(
    _words(
        """
    manager admin director directeur direktor buyer purchaser einkauf acheteu comprador inkoper compratore user
    human mensch humain humano umano custom client kunde klant cliente vendor report includ sign cancel cancell
    automat check control process verarbeit procesa verwerk
    """
    )
)
#: The formal and plural "you" of the six languages (the informal one is in ``INSTRUCTION_WORDS``), and the words
#: that ask for everything or for others' data ("all our customers", "the other vendors").
SECOND_PERSON: frozenset[str] = frozenset(
    _words(
        """
    you your yours vous votre vos sie ihr ihre ihnen ihrer euch euer eure usted ustedes su sus u uw jullie lei
    voi vostro vostra vostri
    all every each other others whole full complete entire alle jede jeden andere anderen ganze vollstandige tous
    toutes autres entiere todos todas otros otras completa tutti tutte altri altre intera elke volledige
    """
    )
)
#: Verbs that make a sentence an order only when they open it (after ``POLITE_WORDS``): "List every PO ...",
#: "Give me ...", but not "packing list" or "price list".
IMPERATIVE_VERBS: frozenset[str] = frozenset(
    _words(
        """
    list give show print write put add move change make do provide post copy repeat output enter drop turn keep
    cancel include report sign check process confirm email mail fax
    leave stop start use let liste gib zeig schreib setz mach donne montre ecris mets fais dame muestra escribe pon
    haz geef toon schrijf maak dammi mostra scrivi metti fai
    """
    )
)
#: Words that may stand before an order without changing it ("please list ...", "bitte gib ...").
POLITE_WORDS: frozenset[str] = frozenset(
    _words("please kindly also then and now just so bitte merci veuillez por favor graag alstublieft per favore")
)
