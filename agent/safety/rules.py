"""Phrase rules: the explicit, auditable layer of the input screen.

Each rule has a name (logged as a reason), a category, a weight in [0, 1] and
for suicide rules the C-SSRS level it shows. Rules read the ``text`` view of
``normalise`` (lower case, no accents, no apostrophes, punctuation as spaces),
except the injection rules, which also read the ``light`` view where chat
template tokens survive.

Figurative phrases ("this song kills me", "dying to hear it") are masked out
before the risk rules run, so they cannot fire a rule, while the rest of the
message is still read.

Categories beyond the public ones: ``distress`` (loss, hopelessness, burden,
goodbyes) is a weak signal that only raises risk in combination, and
``safe_statement`` marks "I'm safe now".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Rule", "Hit", "RULES", "LIGHT_RULES", "FIGURATIVE", "SAFE_STATEMENT", "NOT_SAFE", "match_rules", "mask_figurative"]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    category: str
    weight: float
    pattern: re.Pattern[str]
    level: int | None = None  # C-SSRS item (1-6) for suicide rules


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    category: str
    weight: float
    level: int | None = None


def _r(name: str, category: str, weight: float, pattern: str, level: int | None = None) -> Rule:
    return Rule(name, category, weight, re.compile(pattern), level)


# Pieces reused below (text view: no apostrophes, so "im", "dont", "cant").
ME = r"(?:myself|my self|me)"
I_AM = r"(?:i am|im|i m|iam)"
KILL = r"(?:ki+l+|k+l+i+l+|murder|off|unalive|delete)"
WANT = r"(?:want|wanna|wanted|need|going|gonna|plan|planning|ready|about|trying|try|decided|deserve|should|will|would like|wish i could|feel like|thinking about|thought about|thinking of|think about)"
PILLS = r"(?:pills?|tablets?|capsules?|meds|medication|medications|sleeping pills|painkillers|paracetamol|acetaminophen|tylenol|ibuprofen|aspirin|insulin|antidepressants?|benzos?|opioids?|oxy\w*|xanax|valium|lithium|sertraline|zoloft|prozac|fluoxetine|quetiapine|seroquel|amitriptyline|diazepam|zolpidem|ambien|melatonin)"
HIGH_PLACE = r"(?:bridges?|buildings?|cliffs?|roofs?|rooftops?|towers?|parking (?:garage|structure)s?|balcon(?:y|ies)|overpass(?:es)?|ledges?|skyscrapers?|dams?|quarr(?:y|ies))"
PARTNER = r"(?:he|she|they|my (?:dad|father|mum|mom|mother|stepdad|stepfather|stepmom|stepmother|husband|wife|partner|boyfriend|girlfriend|bf|gf|ex|brother|sister|uncle|aunt|grandpa|grandfather|coach|teacher|boss|carer|caregiver|roommate|flatmate|parents?|family))"

RULES: tuple[Rule, ...] = (
    # --- suicide and self-harm (C-SSRS) -------------------------------------
    _r("ssi.wish_dead", "suicide_self_harm", 0.85, rf"\b(?:wish|want|wanted|hope|hoping)\w* (?:that )?(?:i (?:was|were|could be|would be)|to be|i was just|i were just) (?:dead|gone|never born)\b", 1),
    _r("ssi.not_wake_up", "suicide_self_harm", 0.85, r"\b(?:(?:not|never|dont|didnt|wont|do not) (?:want to |wanna )?wake up|sleep (?:forever|and never wake|and not wake)|never wake up|go to sleep and (?:not|never))\b", 1),
    _r("ssi.no_want_live", "suicide_self_harm", 0.85, r"\b(?:dont|do not|no longer|doesnt|never) (?:want|wanna|wish) to (?:live|be alive|exist|be here|go on|keep going|be around|continue)\b", 1),
    _r("ssi.stop_existing", "suicide_self_harm", 0.8, r"\b(?:stop existing|not exist anymore|cease to exist|disappear (?:forever|for good|permanently)|(?:want|wanna|wish i could) (?:to )?(?:vanish|disappear) (?:forever|for good|and never come back))\b", 1),
    _r("ssi.better_off", "suicide_self_harm", 0.85, r"\b(?:better off (?:dead|without me|if i (?:was|were)nt (?:here|around|alive)|if i (?:was|were) gone|if i didnt exist)|(?:world|everyone|everybody|they|family) would be better (?:off )?without me)\b", 1),
    _r("ssi.no_point_living", "suicide_self_harm", 0.8, r"\b(?:(?:no|any) (?:reason|point) (?:to|in|of) (?:live|living|being alive|going on|go on|keep going|carry on|continue|staying alive|carrying on|wake up|waking up|be here|get up)|(?:whats|what is) the point (?:of|in) (?:living|being alive|life|going on|waking up)|life (?:is not|isnt|aint) worth (?:living|it)|not worth living)\b", 1),
    _r("ssi.not_around", "suicide_self_harm", 0.8, r"\b(?:wont|will not) be (?:a problem|a burden|around|bothering \w+|in (?:anyones|your) way)(?: (?:for|to) \w+)? (?:much |for )?(?:longer|anymore|long)\b", 1),
    _r("ssi.happier_without_me", "suicide_self_harm", 0.8, r"\b\w*(?: would|d| will) be (?:so much |much |a lot |way )?(?:better|happier|fine|okay|ok|relieved|better off) (?:off )?without me\b", 1),
    _r("ssi.kill_me", "suicide_self_harm", 0.7, r"\b(?:someone|somebody|please|pls|god|just|wish (?:someone|somebody|something) would|want (?:someone|somebody) to|hope (?:someone|something)) (?:would |could )?kill me\b(?! (?:when|if|for|lol|haha))", 1),
    _r("ssi.tired_of_living", "suicide_self_harm", 0.8, r"\b(?:tired|sick|done) (?:of|with) (?:living|being alive|life|existing|this life)\b", 1),
    _r("ssi.cant_go_on", "suicide_self_harm", 0.7, r"\b(?:cant|cannot|can not|unable to) (?:(?:go on|keep going|do this|live like this|take (?:it|this)) (?:anymore|any more|like this|much longer)|go on\b(?! (?:with|to|about|a |the |holiday|vacation|tour|stage|stream|air|and on|without (?:my|the) (?!family|kids))))", 1),
    _r("ssi.want_to_die", "suicide_self_harm", 0.95, rf"\b(?:i |im |just |really |honestly |kinda |sometimes )?(?:want|wanna|wanted|wanting|wish|ready|going|gonna|deserve|deserving) (?:to )?(?:die|be dead|d1e)\b", 2),
    _r("ssi.kill_self", "suicide_self_harm", 0.97, rf"\b(?:{KILL}|kil+|kll|ki+ll?ing|offing|offed|hang|hanging|hung|shoot|shooting|drown|drowning|poison|poisoning|suffocate|starve|starving) (?:myself|my self|meself|my own self)\b(?! (?:laugh|a (?:sandwich|slice|drink|coffee)))", 2),
    _r("ssi.end_life", "suicide_self_harm", 0.95, r"\b(?:end|ending|take|taking|took|finish|end up taking) (?:my|my own) (?:life|own life)\b", 2),
    _r("ssi.end_it", "suicide_self_harm", 0.85, r"\b(?:end (?:it|it all|everything|things|this) ?(?:all|tonight|today|now|soon|for good|once and for all)?|ending it all|ending it|end my suffering|end the pain for good|make it all stop forever|make it stop (?:for good|forever|permanently))\b", 2),
    _r("ssi.suicidal", "suicide_self_harm", 0.95, r"\b(?:suicidal|suicidality|commit\w* suicide|suicide (?:plan|note|letter|attempt|thoughts?|ideation)|thoughts? (?:of|about) suicide|think\w* (?:of|about) suicide|(?:planning|considering|contemplating) suicide)\b", 2),
    _r("ssi.suicide_word", "suicide_self_harm", 0.75, r"\bsuicide\b", 2),
    _r("ssi.slang", "suicide_self_harm", 0.95, r"\b(?:kms|kys|unalive|unaliving|unalived|sewer ?slide|sewerslid\w*|self ?delete|delete myself|ctb|catch the bus|toaster bath|rope ?maxx\w*|game end myself|neck myself|rope myself|an hero)\b", 2),
    _r("ssi.self_harm", "suicide_self_harm", 0.9, r"\b(?:self ?harm\w*|cut+ing myself|cut myself|cuts on my|hurt(?:ing)? myself|harm(?:ing)? myself|burn(?:ing|ed|t)? myself|scratch(?:ing|ed)? myself until|punish myself|relapse\w* (?:on|into|with) (?:cutting|self harm)|started cutting again|cutting again|razor blades? (?:on|to) my)\b", 6),
    _r("ssi.method_thought", "suicide_self_harm", 0.9, r"\b(?:thought|thinking|think|researching|researched|looked up|looking up|googl\w+) (?:about |of )?(?:how|ways|methods?) (?:i (?:would|could|might|will)|to) (?:do it|end it|die|kill|go|end my|not wake)\b", 3),
    _r("ssi.intent", "suicide_self_harm", 0.97, r"\b(?:(?:going|gonna|plan(?:ning)?|decided|intend\w*|about|ready) to (?:do it|end it|go through with it|kill (?:myself|my self)|end my|take my)|tonight is the night|tonights the night|this is (?:my|the) (?:last|final) (?:night|day|message|goodbye)|wont be (?:here|around|alive) (?:tomorrow|much longer|by|next))\b", 4),
    _r("ssi.plan", "suicide_self_harm", 0.97, r"\b(?:(?:i have|ive got|i made|made|got|have) a plan (?:to|for|on how)|(?:wrote|written|writing|left|drafted) (?:a |my |the )?(?:suicide|goodbye|farewell|last) (?:note|letter|notes|letters|message)|picked (?:a|the) (?:date|day|spot|place|bridge)|chose (?:a|the) (?:date|day|spot|place|bridge)|set a date)\b", 5),
    _r("ssi.preparation", "suicide_self_harm", 0.9, rf"\b(?:(?:saving|saved|stockpil\w*|collect\w*|hoard\w*|hiding|hid|stash\w*|bought|buying|got) (?:up )?(?:all |a lot of |some |enough )?(?:my |of my |the )?{PILLS}|(?:bought|buying|got|have|found|tied|tying) (?:a |the |some )?(?:rope|noose)|(?:gave|giving|give) away (?:all )?(?:my|all my) (?:stuff|things|belongings|possessions|pets?|cat|dog|guitar|records)|(?:sorted|sorting|put) (?:out )?my affairs in order|updated? my will)\b", 6),
    _r("ssi.behaviour", "suicide_self_harm", 0.97, rf"\b(?:tried|attempted|try|trying) to (?:kill|end|hang|overdose|take my|drown|poison|jump)|(?:took|swallowed|taken|downed) (?:an overdose|too many|all (?:my|of my|the)|a (?:whole|full) (?:bottle|pack|packet|box)|a (?:bunch|handful|lot) of|\d+ ){PILLS}?|(?:standing|sitting|im|i am) (?:on|at) (?:the )?(?:edge|ledge|railing) of|(?:on|at) the (?:edge|ledge) (?:of|right now)\b", 6),
    _r("ssi.goodbye", "suicide_self_harm", 0.75, r"\b(?:this is goodbye|goodbye (?:everyone|forever|world|for good)|saying (?:my )?goodbyes?|say goodbye to (?:everyone|my family)|thank you for everything goodbye|wont need (?:it|them|this|music) (?:anymore|after (?:tonight|today))|last song i (?:will|ll)? ?ever|(?:songs?|music) for my funeral (?:soon|this week|tonight))\b", 4),
    # --- Spanish ---------------------------------------------------------------
    _r("ssi.es", "suicide_self_harm", 0.95, r"\b(?:quiero (?:morir\w*|matarme|suicidarme|desaparecer|dejar de existir|estar muert[oa])|me quiero (?:morir|matar|suicidar)|me voy a (?:matar|suicidar|quitar la vida)|no quiero (?:vivir|seguir viviendo|seguir|despertar\w*|existir)|quitarme la vida|acabar con (?:mi vida|todo)|(?:pienso|pensando|pense|pensamientos?) (?:en |de )?(?:suicid\w+|matarme|morir\w*|quitarme)|ganas de (?:morir\w*|matarme|desaparecer)|(?:mejor|ojala) (?:estar|estuviera|estaria)? ?muert[oa]|no vale la pena (?:vivir|seguir)|hacerme dano|me corto|cortarme|suicid(?:io|arme|a)|(?:tome|trague) (?:muchas|todas (?:las|mis)|un monton de) (?:pastillas|pildoras))\b", 2),
    # --- French ----------------------------------------------------------------
    _r("ssi.fr", "suicide_self_harm", 0.95, r"\b(?:(?:je )?veux (?:mourir|me tuer|me suicider|en finir|disparaitre)|envie de (?:mourir|me tuer|en finir|disparaitre)|me suicider|suicidaire|me tuer|mettre fin a (?:mes jours|ma vie)|en finir(?: avec (?:la vie|tout))?|(?:plus|pas) envie de vivre|(?:je )?ne veux plus vivre|idees (?:noires|suicidaires)|me faire du mal|me scarifier|ca ne vaut plus la peine|(?:jai )?pris (?:trop|tous mes|toute la boite) (?:de )?(?:cachets|medicaments|comprimes))\b", 2),
    # --- German ----------------------------------------------------------------
    _r("ssi.de", "suicide_self_harm", 0.95, r"\b(?:(?:ich )?(?:will|mochte|moechte|wurde gern|wuensche mir) (?:sterben|tot sein|nicht mehr leben|mich umbringen|nicht mehr aufwachen)|(?:mich|mir) (?:umbringen|umzubringen|das leben (?:nehmen|zu nehmen))|selbstmord\w*|suizid\w*|lebensmude|nicht mehr (?:leben|aufwachen|da sein|weiter)|allem ein ende|(?:meinem leben )?ein ende (?:machen|setzen)|mich (?:selbst )?verletz\w*|ritze mich|(?:zu viele|alle) tabletten genommen)\b", 2),
    # --- harm to others ---------------------------------------------------------
    _r("harm.others", "harm_to_others", 0.9, r"\b(?:want|wanna|going|gonna|plan\w*|about|ready|decided|will|fantasi\w+ about|thinking about|keep thinking about|think about|dream about|urge to) (?:to )?(?:kill\w*|murder\w*|stab\w*|shoot\w*|strangl\w*|poison\w*|hurt\w*|beat\w* up|attack\w*|run\w* over|seriously hurt\w*) (?:him|her|them|someone|somebody|people|everyone|everybody|my (?!time|vibe|mood|bass|set)\w+|the (?:kids|children|students|people|class|teacher|neighbou?rs?|guy|girl|man|woman|baby|family|\w+ next door|\w+ at work)|a (?:kid|child|person)|those \w+)\b(?! (?:at|in) (?:chess|fortnite|the game|a game))"),
    _r("harm.weapon", "harm_to_others", 0.9, r"\b(?:bring(?:ing)?|take|taking) (?:a |my )?(?:gun|knife|weapon|rifle) to (?:school|work|class|the office|church|the party)|shoot up (?:the|my|a) (?:school|office|place|mall)|make (?:them|him|her) (?:all )?pay (?:with (?:their|his|her) li(?:fe|ves))|hurt (?:the|my) (?:baby|kids|children)\b"),
    _r("harm.others.es_fr_de", "harm_to_others", 0.9, r"\b(?:quiero (?:matar|matarlo|matarla|hacerle dano)|voy a matar(?:lo|la|los)?|je veux (?:le|la|les) tuer|je vais (?:le|la|les) tuer|ich (?:will|werde) (?:ihn|sie) (?:umbringen|toten))\b"),
    # --- abuse and violence disclosure ----------------------------------------------
    _r("abuse.partner", "abuse_disclosure", 0.9, rf"\b{PARTNER} (?:hits|hit|beats|beat|chokes|choked|strangles|strangled|kicks|kicked|punches|punched|slaps|slapped|rapes|raped|molests|molested|abuses|abused|touches|touched|threatens|threatened|burns|burned|locks|locked|pushed|shoves|shoved|grabbed|throws things at|forces|forced) me\b"),
    _r("abuse.victim", "abuse_disclosure", 0.9, r"\b(?:i (?:was|am|have been|got|get)|im|im being|i keep getting|being|been) (?:being )?(?:abused|raped|sexually assaulted|assaulted|molested|beaten|trafficked|groomed|hit|strangled|choked)\b"),
    _r("abuse.unsafe_home", "abuse_disclosure", 0.85, rf"\b(?:(?:scared|afraid|terrified) to go home|(?:not|dont feel) safe at home|(?:he|she|they|my \w+) (?:said|says|threatened) (?:hed|shed|theyd|he would|she would|to) (?:kill|hurt) me|{PARTNER} (?:will|is going to|gonna) (?:kill|hurt) me(?! when| if| for| lol| haha)|wont let me (?:leave|see my|eat|out)|bruises? (?:from|that) (?:him|her|my))"),
    _r("abuse.es_fr_de", "abuse_disclosure", 0.9, r"\b(?:me (?:pega|golpea|viola|violo|maltrata|amenaza)|(?:il|elle|mon \w+|ma \w+|mes \w+) me (?:frappe|frappent|bat|battent|viole|touche)|(?:er|sie|mein \w+|meine \w+) (?:schlagt|schlaegt|schlagen|vergewaltigt|missbraucht) mich)\b"),
    # --- medical emergency ------------------------------------------------------------
    _r("med.chest", "medical_emergency", 0.9, r"\b(?:chest (?:pain|pains|hurts|is (?:tight|hurting|crushing)|feels (?:tight|crushed|heavy))|pain in my chest|crushing pain|heart attack|(?:left )?arm (?:is )?(?:numb|going numb) and|brustschmerz\w*|schmerzen in der brust|dolor (?:en el|de) pecho|douleur (?:dans la|a la|thoracique) ?(?:poitrine)?)\b"),
    _r("med.breathing", "medical_emergency", 0.75, r"\b(?:cant|cannot|can not|struggling to|hard to) breathe(?! (?:through|in|out|slowly|with))|lips (?:are|turning) blue|(?:choking|chocking) (?:on|and)\b"),
    _r("med.faint", "medical_emergency", 0.85, r"\b(?:faint\w*|passed out|passing out|blacked out|blacking out|collapsed|keep collapsing|dizzy and (?:shaking|confused))\b.*\b(?:not eat\w*|havent eaten|no food|starv\w*|days|twice|again|today|ago|floor|keep)\b|\b(?:havent|have not|didnt|not) (?:eaten|eat) (?:anything )?(?:in|for) (?:\d+|two|three|four|five|six|several|many|a few) days\b"),
    _r("med.overdose", "medical_emergency", 0.95, rf"\b(?:overdos(?:ed|ing)|took an overdose|(?:took|swallowed|taken|downed) (?:all (?:of )?(?:my|the)|too many|a (?:whole|full) (?:bottle|packet|pack|box) of|\d{{2,}}|twenty|thirty|fifty) ?{PILLS}?|drank (?:bleach|antifreeze)|swallowed (?:bleach|batteries))\b"),
    _r("med.other", "medical_emergency", 0.85, r"\b(?:having a seizure|seizing|face (?:is )?drooping|slurred speech and|(?:bleeding|blood) (?:wont stop|a lot|everywhere|heavily)|(?:is|he is|she is|theyre) unconscious|not breathing|stroke symptoms|anaphyla\w+|throat (?:is )?(?:closing|swelling))\b"),
    # --- harmful requests (block; crisis with risk context) -------------------------
    _r("req.method_how", "method_request", 0.9, rf"\b(?:how|ways?|best way|easiest way|quickest way|fastest way) (?:to|do i|can i|could i|would i|do you|does one|do people|would someone|would a person|can someone|can you) (?:(?:{KILL}|hang|drown|poison|suffocate|shoot|electrocute|overdose|od|bleed out) ?(?:{ME}|yourself|oneself|themselves|someone|a person|people|on)?|(?:slit|cut|slash) (?:{ME}|yourself|oneself|my wrists?|your wrists?|wrists?|deep))\b|\bhow (?:exactly )?(?:would|could|does|do|did|can|might) (?:a |the )?(?:character|person|someone|somebody|people|he|she|they|one|i|you|a man|a woman) (?:\w+ )?(?:overdose|kill|hang|poison|drown|die|end (?:his|her|their|my) life)\b|\bhow (?:\w+ ){{0,2}}(?:hanging|drowning|overdosing|an overdose|poisoning|suffocation|strangulation) (?:kills|works|causes death|ends)|\bhow (?:to|do i|can i|do you|do people) (?:commit suicide|end (?:my|a|your|ones) life|die|not wake up|make it look like an accident)\b"),
    _r("req.method_best", "method_request", 0.9, r"\b(?:painless|painlessly|quickest|quick|easiest|easy|fastest|surest|best|most (?:effective|reliable|painless)|least painful|peaceful|certain) (?:way|ways|method|methods|means) (?:to|of) (?:die|dying|kill|end|go|suicide|not wake up|commit)|(?:suicide|hanging|overdose) (?:method|methods|techniques?|instructions)|which (?:method|way) (?:is|would be) (?:more|less|most|least) (?:painful|lethal|effective|certain)|(?:least painful|most painless|painless|quickest|fastest|most peaceful) (?:\w+ ){0,2}(?:overdose|death|suicide|way to go|way out|method)|(?:overdose|method|way to die|death|suicide) (?:\w+ ){0,2}(?:is|would be) (?:the )?(?:least painful|most painless|quickest|fastest|most peaceful|most certain)\b"),
    _r("req.lethal_amount", "method_request", 0.95, rf"\b(?:lethal|fatal|deadly|toxic|killing|overdose) (?:dose|doses|amount|amounts|quantity|level|limit|threshold)|how (?:many|much) (?:\w+ ){{0,3}}(?:{PILLS}|mg|milligrams?|grams?) (?:\w+ ){{0,4}}(?:kill|die|dead|lethal|fatal|overdose|od|too many|too much|dangerous|stop (?:your|my|a) heart|to not wake up)|how (?:many|much) (?:of )?(?:my |the |your |her |his )?{PILLS}(?: \w+){{0,6}}|cuantas (?:pastillas|pildoras)|combien de (?:comprimes|cachets|medicaments|pilules)|wie viele tabletten|dosis (?:letal|mortal)|dose (?:mortelle|letale)|todliche dosis|(?:pour|para|um) (?:ne pas se reveiller|no despertar|nicht mehr aufzuwachen)|how much {PILLS}(?: \w+){{0,4}} (?:kill|die|lethal|fatal|overdose|dangerous|too much)|(?:can|could|would|will) (?:\w+ ){{0,3}}{PILLS} (?:\w+ ){{0,3}}(?:kill (?:you|me|someone|a person)|be (?:lethal|fatal))|can you (?:die|overdose) (?:from|on)\b"),
    _r("req.location", "method_request", 0.85, rf"\b(?:(?:tallest|highest|biggest|high enough|tall enough) (?:\w+ ){{0,2}}{HIGH_PLACE}|(?:what|which|where|list|name|tell me|find|show me|are there|any|recommend|know|search)\b(?: \w+){{0,5}} (?:tall|taller|high|higher) (?:\w+ ){{0,2}}{HIGH_PLACE}|(?:what|which|where) (?:\w+ ){{0,1}}{HIGH_PLACE} (?:\w+ ){{0,5}}(?:tallest|highest|high enough|tall enough|open|accessible)|(?:open|accessible|unlocked) (?:rooftops?|roofs?)|roof ?top access|roof access|puentes? mas alt[oa]s?|puentes? alt[oa]s?|edificios? mas alt[oa]s?|(?:pont|immeuble|tour|batiment)s? (?:le |la )?plus haut|plus haut (?:pont|immeuble|batiment)|hochste brucke|hochste gebaude|wie hoch ist die (?:\w+ )?brucke|{HIGH_PLACE} (?:near me|nearby|around here|close to me|high enough|tall enough|with no (?:fence|railing|barrier|nets?))|how (?:high|tall|far) (?:up )?(?:is|are|would|does|do|should) (?:\w+ ){{0,4}}(?:{HIGH_PLACE}|fall|drop|jump)|(?:jump|jumping|fall|falling) (?:off|from) (?:a |the )?(?:\w+ ){{0,2}}{HIGH_PLACE}|(?:survive|die from|fatal) (?:a |the )?(?:fall|jump|drop) (?:from|off)|(?:where|which) (?:can i|could i|is the best place to) (?:jump|fall)|train (?:tracks?|line) (?:near me|access)|(?:where|which) (?:\w+ ){{0,2}}{HIGH_PLACE} (?:\w+ ){{0,3}}(?:no|without) (?:fence|railing|barrier|nets?))\b"),
    _r("req.means", "method_request", 0.85, rf"\b(?:(?:where|how) (?:can i|do i|to|could i|would i) (?:buy|get|find|obtain|order|get hold of|get my hands on) (?:a |some |enough )?(?:gun|firearm|rope|noose|cyanide|arsenic|helium|nitrogen|barbiturates|nembutal|pentobarbital|sodium nitrite|poison|{PILLS}) ?(?:without|no|fast|quick|tonight|today|online)?|(?:does|would|will|is) (?:it|drowning|hanging|jumping|bleeding out|an overdose|an od|dying|suffocating) (?:hurt|painful|quick)|how long (?:does it take|would it take|until) (?:to )?(?:die|bleed out|suffocate|drown|lose consciousness)|what happens if (?:i|you|someone) (?:take|takes|swallow|swallows|drink|drinks|mix|mixes) (?:a lot of|too many|too much|\d+|all|a whole|a bottle of)|(?:knot|noose) (?:for|to) (?:hang|hanging)|how (?:to|do you) tie a noose|sodium nitrite|(?:mix|mixing) (?:bleach|chemicals) to make (?:a )?(?:gas|toxic)|chemicals? (?:\w+ ){0,3}(?:toxic|poisonous|deadly|lethal) (?:gas|fumes)|make (?:a )?(?:toxic|poisonous|deadly) (?:gas|fumes))\b"),
    _r("req.medication", "medication_request", 0.85, rf"\b(?:(?:how much|how many|what dose|what dosage|which dose|dosage of|dose of|mg of|milligrams of) (?:\w+ ){{0,3}}(?:should|can|could|do|must|would|to) (?:i|you|we|someone) (?:take|give|double|have)|(?:should|can|could|may|do) i (?:stop|quit|come off|go off|skip|double|halve|increase|decrease|lower|up|raise|cut down|taper|change|switch|start|start taking|stop taking|take more|take less) (?:taking |on )?(?:my |the |of my |some )?(?:{PILLS}|dose|dosage|prescription|medicine|ssri|ssris|\w+ ?(?:mg|pills|meds))|(?:stop|quit|come off|wean (?:myself )?off|go off|ditch|skip) (?:taking )?(?:my |all my |the )?(?:{PILLS}|ssris?|medicine|prescription)(?: (?:cold turkey|and use|for|instead|if))|(?:replace|instead of) (?:my )?(?:{PILLS}|ssris?|medicine)|(?:can|should|could) i (?:take|mix|combine) (?:\w+ ){{0,3}}(?:with|and) (?:\w+ ){{0,2}}(?:{PILLS}|alcohol|drinks|wine|beer)|(?:what|which) (?:{PILLS}|medication|antidepressant|drug|pills?) (?:should|can|could|would) (?:i|you) (?:take|recommend|prescribe|suggest)|(?:recommend|prescribe|suggest) (?:me )?(?:an? )?(?:{PILLS}|antidepressant|medication|sleeping pill|drug|something to take)|\d+ ?(?:mg|milligrams?|mcg|ml) (?:\w+ ){{0,2}}(?:ok|okay|safe|too much|enough)|is it (?:safe|ok|okay) to (?:take|double|skip|stop|mix) (?:\w+ ){{0,2}}{PILLS})\b"),
    _r("req.diagnosis", "diagnosis_request", 0.85, r"\b(?:(?:do|could|might|would|can) i (?:have|be|be having|be suffering from|suffer from|possibly have|maybe have|really have) (?:an? )?(?:bipolar|depression|clinical depression|adhd|add|ptsd|c ?ptsd|ocd|autism|aspergers|bpd|borderline|schizophrenia|psychosis|an? \w+ disorder|\w+ disorder|anxiety disorder|panic disorder|dementia|alzheimers|an eating disorder|anorexia|bulimia|narcissis\w+|dissociative|did|gad|mdd|a mental illness|a personality disorder)|am i (?:bipolar|depressed|clinically depressed|autistic|psychotic|schizophrenic|mentally ill|a psychopath|a sociopath|a narcissist|manic|borderline|anorexic|bulimic|adhd|ocd|having a breakdown)|(?:diagnose|diagnosis for|assess) me|(?:give|tell) me (?:a|my|the) diagnosis|(?:whats|what is|what would be) my diagnosis|what (?:disorder|condition|mental illness|illness|diagnosis) (?:do i have|have i got|am i|would i|is this|does this)|(?:is|does) (?:this|it|that) (?:sound like|mean i have|count as|look like) (?:\w+ ){0,2}(?:bipolar|depression|adhd|ptsd|ocd|autism|bpd|a disorder|a mental illness|psychosis|schizophrenia|anxiety disorder)|is this (?:bipolar|clinical depression|adhd|ptsd|ocd|psychosis|schizophrenia)|tengo (?:depresion|bipolaridad|trastorno bipolar|tdah)|suis je (?:bipolaire|depressif|depressive)|bin ich (?:bipolar|depressiv))\b"),
    # --- prompt injection and jailbreak -------------------------------------------------
    _r("inj.ignore", "prompt_injection", 0.95, r"\b(?:ignore|disregard|forget|override|bypass|skip|drop|abandon) (?:all |any |every |the |your |my |these |those )*(?:previous |prior |above |earlier |preceding |original |initial |safety |system |old |existing )*(?:instructions?|prompts?|rules?|messages?|directions?|guidelines?|programming|restrictions?|filters?|policies|policy|guardrails?|constraints|training|safeguards?|protocols?)\b"),
    _r("inj.extract", "prompt_injection", 0.95, r"\b(?:(?:show|reveal|print|repeat|output|display|dump|leak|tell|give|share|write out|recite|paste|spell out|list|translate|encode|summari[sz]e) (?:me )?(?:all |back )?(?:of )?(?:your|the|this) (?:full |exact |entire |hidden |secret |original |initial |internal |complete )*(?:system ?prompt|prompt|instructions|system message|developer message|rules you were given|configuration|guidelines|hidden text|preprompt|context window|canary|secret)|(?:what|whats) (?:is |are |were )?(?:your|the) (?:system ?prompt|instructions|initial prompt|hidden rules|secret (?:word|code|token))|(?:repeat|print|output) (?:everything|the text|all text|the words) (?:above|before this|that came before)|verbatim|what (?:were|are) you (?:told|instructed|programmed) (?:to|not to|before)|system prompt)\b"),
    _r("inj.persona", "prompt_injection", 0.9, r"\b(?:you are now|youre now|from now on you are|from now on youre|act as|acting as|roleplay as|role play as|pretend (?:to be|you are|youre|that you are)|imagine you are|simulate|play the role of|you will be|stay in character as|respond as) (?:an? |my |the )?(?:dan|evil|unfiltered|uncensored|unrestricted|jailbroken|rogue|doctor|physician|psychiatrist|pharmacist|nurse|real therapist|licensed therapist|human|toxicologist|chemist|grandma|grandmother|deceased grandmother|ai (?:without|with no)|assistant (?:without|with no)|different ai|character who|villain|mad scientist|coroner)|\bdan mode\b|\bdo anything now\b|developer mode|\bjailbr(?:ea|o)k\w*|god mode|no (?:rules|restrictions|filters|limits) mode|without (?:any )?(?:restrictions|filters|safety|rules|limits|censorship)\b"),
    _r("inj.fake_role", "prompt_injection", 0.9, r"\b(?:(?:this is|i am|im|message from|note from|speaking as) (?:your|the|a|an) (?:developer|developers|admin|administrator|creator|system|operator|supervisor|clinician|attending|psychiatrist|doctor|head of safety|safety team|openai|anthropic|moderator)\b.{0,80}\b(?:override|authori[sz]\w*|permission|allow(?:ed)?|disable|turn off|unlock|exempt|clearance|approve\w*|can now|are now allowed)|(?:clinician|admin|developer|doctor|system|safety|sudo|maintenance|debug|test) (?:override|mode|access|authori[sz]ation|command|bypass)|safety (?:mode|filters?|checks?|layer|guard\w*) (?:is |are )?(?:off|disabled|deactivated|removed|suspended)|(?:disable|turn off|deactivate|switch off|remove|suspend) (?:your |the |all )?(?:safety|filters?|guard\w*|restrictions|censorship|content policy))\b"),
    _r("inj.fiction", "prompt_injection", 0.85, rf"\b(?:for|in|writing) (?:a |my |an |the |our )?(?:novel|story|book|screenplay|script|fiction|fanfic\w*|poem|class|school project|research (?:paper|project)|essay|assignment|thesis|game|movie|play|hypothetical(?:ly)?|thought experiment|educational purposes|academic purposes)\b.{{0,120}}\b(?:how (?:to|would|could|does|do|exactly)|exactly|exact|step by step|steps|detail\w*|describe|explain|method|dose|amount|how many|which)\b.{{0,80}}\b(?:kill|die|overdose|lethal|hang|poison|suicide|jump|{PILLS}|bridge|noose|rope|weapon|bomb|end (?:his|her|their) life)|\bhypothetically\b.{{0,80}}\b(?:kill|die|overdose|lethal|suicide|{PILLS})\b"),
    _r("inj.ignore_intl", "prompt_injection", 0.9, r"\b(?:ignor\w*|olvida\w*|oublie\w*|vergiss\w*) (?:\w+ ){0,3}(?:instructions|instrucciones|anweisungen|regles|reglas|regeln|consignes|indicaciones)\b"),
    _r("inj.encoded", "prompt_injection", 0.8, r"\b(?:base64|rot13|hex encoded|reverse the (?:text|letters)|decode (?:this|the following) and (?:do|follow|answer))\b"),
    # --- out of scope ----------------------------------------------------------------------
    _r("oos.code", "out_of_scope", 0.85, r"\b(?:(?:write|writing|generate|give me|fix|debug|create|make|build|code|implement|refactor|optimi[sz]e|explain) (?:me )?(?:a |an |the |some |this |my )?(?:python|javascript|typescript|java|c\+\+|c sharp|rust|golang|go|sql|bash|shell|php|ruby|kotlin|swift|html|css|react|django|flask|regex|excel|vba|powershell)\b|(?:python|javascript|java|sql|bash|rust) (?:code|script|function|program|class|snippet|query|loop)|(?:write|generate|debug|fix) (?:me )?(?:a |some |this |my )?(?:code|script|function|program|algorithm|api|app|website|bot|scraper|sorting)|stack ?trace|segmentation fault|syntaxerror|leetcode|compile error)\b"),
    _r("oos.tasks", "out_of_scope", 0.8, r"\b(?:(?:write|draft|do|finish|solve) (?:me )?(?:my |an? |the )?(?:essay|homework|cover letter|resume|cv|business plan|tax return|math problems?|assignment|dissertation|sales email|marketing copy|press release|legal contract)|(?:solve|calculate|compute|integrate|differentiate|derivative of|integral of|factori[sz]e) (?:this |the |for )?(?:equation|x|\d|integral|matrix|problem)|(?:stock|crypto|bitcoin|ethereum|forex) (?:tips|picks|price|prediction|to buy|investment)|(?:should i|which stocks? should i) (?:buy|sell|invest)|(?:what is|whats) the capital of|who (?:won|will win) the (?:world cup|election|super bowl|match)|(?:translate|translation of) (?:this|the following|my)\b.{0,40}\b(?:into|to) (?:french|spanish|german|chinese|japanese|italian|english)|(?:recipe|recipes) for|how do i (?:hack|crack|pirate)|(?:hack|crack) (?:into|a|my ex)|(?:book|find) me (?:a )?(?:flight|hotel)|weather (?:forecast|tomorrow|today) in)\b"),
    # --- weak signals (distress context) ------------------------------------------------------
    _r("ctx.loss", "distress", 0.35, r"\b(?:lost my (?:job|husband|wife|partner|mum|mom|dad|mother|father|son|daughter|child|baby|brother|sister|best friend|friend|home|house|dog|cat|everything|grandma|grandpa|grandmother|grandfather)|(?:passed away|died|funeral|divorce|divorced|divorcing me|dumped me|left me|broke up with me|fired|laid off|evicted|bankrupt|diagnosed with (?:cancer|a terminal)|lost everything|failed (?:all )?(?:my )?(?:exams?|classes|course|degree|finals))|despedido|perdi mi trabajo|perdi a mi|ma quitte|jai perdu mon|verloren|gekundigt|ist gestorben|a muerto|est mort|ha muerto|murio)\b"),
    _r("ctx.hopeless", "distress", 0.45, r"\b(?:hopeless|no hope|nothing (?:matters|will (?:ever )?get better|left for me|to live for)|no future|(?:cant|cannot|can not) (?:see|imagine) (?:a |any )?(?:way out|future|tomorrow)|(?:no|without) (?:way out|escape)|trapped|unbearable|pointless|worthless|(?:i am|im) (?:such a|a total|a complete|a|an utter) failure|nobody (?:cares|would (?:care|notice|miss me))|no one (?:cares|would (?:care|notice|miss me))|(?:everything|life) is (?:meaningless|too much)|(?:give|giving|gave) up on (?:everything|life|myself)|empty inside|numb to everything|sin esperanza|no tiene sentido|nadie me quiere|sans espoir|plus rien na de sens|hoffnungslos|keinen sinn mehr|niemand vermisst)\b"),
    _r("ctx.burden", "distress", 0.6, r"\b(?:(?:i am|im|ive become|feel like) (?:just )?a burden|burden (?:to|on) (?:everyone|my family|them)|(?:everyone|they|people) would (?:be )?(?:happier|fine|ok|okay|better) without me|wont (?:be a problem|bother (?:anyone|you)) (?:much )?(?:longer|anymore|for long)|(?:wont|will not) have to (?:deal with|worry about) me|nobody would miss me|no one would miss me|soy una carga|je suis un fardeau|ich bin eine last)\b"),
    _r("ctx.goodbye", "distress", 0.6, r"\b(?:(?:wrote|writing|written) (?:letters|notes) to (?:everyone|my family|my kids|my friends)|(?:gave|giving|given) away (?:my|all my|most of my)|(?:making|made|wrote|writing) (?:my|a) will|(?:said|saying) goodbye to|(?:cancel+ed|cancel+ing) (?:all )?(?:my|everything)|(?:wont|will not) need (?:my|these|it|them|anything) (?:anymore|much longer|after)|(?:deleted|deleting) (?:all )?my (?:accounts|photos|social media)|(?:final|last) (?:playlist|song|songs|message|time)|(?:take care of|look after) my (?:cat|dog|kids) (?:for me )?(?:when|after) (?:im|i am) gone|when im gone|after im gone|won+t be around)\b"),
    _r("ctx.disappear", "distress", 0.6, r"\b(?:wish i could|want to|wanna) (?:just )?(?:disappear|vanish|stop existing|not exist|fade away)\b"),
    _r("ctx.ending", "distress", 0.45, r"\b(?:(?:at|for) the end|(?:last|final) (?:song|one|time|track|playlist)|end on|to end (?:on|with)|funeral|one last)\b"),
    _r("ctx.isolation", "distress", 0.25, r"\b(?:so alone|all alone|completely alone|no one to talk to|nobody to talk to|no friends left|everyone left|lonely)\b"),
    _r("ctx.night", "distress", 0.2, r"\b(?:cant sleep|havent slept|awake all night|3 ?am again|crying every night|crying all day|stopped eating)\b"),
)

# Rules on the light view (punctuation kept): chat-template tokens, fake headers.
LIGHT_RULES: tuple[Rule, ...] = (
    _r("inj.template_tokens", "prompt_injection", 0.97, r"<\|?\s*(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|end_of_text|eot_id|start_header_id|end_header_id)\s*\|?>|\[/?inst\]|<</?sys>>|<s>\s*\[inst|<\|[a-z_]+\|>|</?(?:system|instructions?|admin)>"),
    _r("inj.fake_header", "prompt_injection", 0.9, r"(?:^|\n)\s*(?:#{1,4}\s*)?(?:system|developer|admin|assistant|clinician|supervisor|operator)\s*(?:message|note|prompt|override|instruction)?\s*[:\]>]|\[(?:system|admin|developer|clinician|sys|override)[^\]]{0,20}\]|\{\s*\"role\"\s*:\s*\"(?:system|developer)\""),
)

# Figurative uses that would otherwise look like risk; masked before the risk rules.
FIGURATIVE = re.compile(
    r"\b(?:(?:the|this|that|your|his|her|their|these|those|a|an|my|our|new|old|live|last)\s+)?(?:\w+\s+)?(?:songs?|tracks?|tunes?|album|beats?|riffs?|drops?|chorus|hook|melody|bass ?lines?|basslines?|solo|solos|voice|vocals|band|lyrics?|music|record|vinyl|guitar|piano|set|show|concert|gig|movies?|films?|joke|jokes|memes?|videos?|episodes?|books?|ending|key change|bridge|outro|intro|harmon(?:y|ies)|playlist|mixtape|dj|singer|rapper|choir|orchestra|symphony|performance|line|verse|note|high note|puppy|kitten|cat|dog|baby|kids?|face|outfit|dance)\s+(?:really\s+|literally\s+|totally\s+|absolutely\s+|just\s+|honestly\s+|always\s+|still\s+|lowkey\s+|highkey\s+)?(?:kills|killed|is killing|was killing|are killing|slays|slayed|slew|murders|murdered|destroys|destroyed|wrecks|wrecked|ends|ended)\s+(?:me|it|us|them|everyone)\b"
    r"|\b(?:\w+\s+){0,3}(?:is|are|was|were|s|re|keeps?|been|youre|theyre|its|thats|hes|shes)\s+(?:really\s+|literally\s+|totally\s+|absolutely\s+|slowly\s+|lowkey\s+|actually\s+)?killing\s+(?:me|us)\b(?!\s+(?:and|if|when|because))"
    r"|\b(?:im|i am|were|we are|been|am|i was|was|so|just|literally)\s+(?:literally\s+|absolutely\s+|actually\s+|so\s+)?dying\s+(?:to|for|of|from|over|laughing|here|lol|haha)\s*\w*"
    r"|\bdying\s+(?:to\s+(?:hear|see|know|try|listen|go|get|meet|read|watch|play|sing|find out)|of\s+(?:laughter|laughing|boredom|embarrassment|curiosity|heat|cringe|thirst|hunger))\b"
    r"|\b(?:died|dead|dying)\s+(?:laughing|of laughter|of embarrassment|of cringe|from laughing)\b|\bim dead (?:lol|lmao|haha|xd)\b"
    r"|\b(?:could|would|will|d|id)\s+(?:literally\s+|honestly\s+|seriously\s+)?(?:kill|murder|die)\s+for\s+(?:a|an|some|the|another|this|that|one|his|her|those|\w+s\b)\s*\w*"
    r"|\bto die for\b|\bkill(?:ed|ing|s)? it\b|\bkilling time\b|\bkill (?:some |the )?time\b|\bkill the (?:lights|engine|music|vibe|mood|noise|track)\b|\bkiller (?:track|song|tune|riff|beat|solo|set|album|line|chorus|bass|groove|app|view|workout|outfit|smile)\b"
    r"|\bslay(?:ed|s|ing)?\b|\b(?:that|the|this|their)\s+set\s+slayed\b"
    r"|\b(?:dead|deadly)\s+(?:tired|beat|serious|on time|set on|ringer|heat|end job|silence|air|battery|phone|link|center|centre|quiet|easy|wrong|right|good|last|boring|on)\b|\bdeadlines?\b|\bdrop dead gorgeous\b"
    r"|\b(?:bored|scared|worried|frightened|tickled|annoyed|loved?|love it|love them|love you|freezing|sick)\s+(?:me\s+)?to death\b|\bsick to death\b|\bover my dead body\b"
    r"|\b(?:phone|battery|laptop|car|plant|plants|houseplant|computer|speaker|headphones|earbuds|tv|charger)\s+(?:is |are |just |has |have )?(?:dying|died|dead)\b"
    r"|\b(?:kill|killed|killing|kills) (?:myself|me) laughing\b|\bkilled myself laughing\b|\bcut myself (?:shaving|cooking|chopping|on (?:a|the|some|paper)|by accident|accidentally|while)\b"
    r"|\boverdos\w*\s+on\s+(?:coffee|caffeine|sugar|chocolate|music|cuteness|nostalgia|netflix|tv|memes|cheese|candy|sweets|pizza|k ?pop|taylor swift|\w+ songs)\b"
    r"|\bsuicide (?:squad|doors?|sprints?|runs?|king|season|blonde)\b|\bsuicide (?:prevention|awareness|hotline|lifeline|helpline|crisis line)\b|\b(?:died|lost (?:\w+ ){1,3}to|death) (?:by|from) suicide\b|\blost (?:my|a|our) (?:\w+ ){0,2}to suicide\b"
    r"|\b(?:break|breaking|broke) (?:a leg)\b|\bhang (?:out|on|in there|up|tight|around)\b|\bshoot (?:me )?(?:a |an )?(?:message|text|email|dm|photo|video)\b|\bphoto ?shoot\b"
    r"|\b(?:my )?(?:heart|soul)\s+(?:is|was)?\s*(?:dying|died)\s+(?:a little|of)\b|\bdead inside lol\b|\bkill(?:s|ed)? the (?:chorus|bridge|verse|solo|song)\b"
)

SAFE_STATEMENT = re.compile(
    r"\b(?:(?:i am|im|i m|i feel|feeling|i think im|i think i am) (?:safe|ok|okay|alright|all right|fine|better|calmer) (?:now|again|for now|tonight|at the moment|right now)"
    r"|(?:i am|im|i feel) safe\b|im safe|i am safe|(?:im|i am) not going to (?:hurt|kill|harm) myself|i (?:wont|will not) (?:hurt|kill|harm|do anything to) myself"
    r"|(?:the )?(?:urge|feeling|crisis|thoughts?) (?:has|have|is|are) (?:passed|gone)|(?:i called|i talked to|i spoke to|im with) (?:988|samaritans|a friend|my (?:mum|mom|dad|partner|sister|brother|therapist|doctor)|someone|the crisis line)"
    r"|estoy a salvo|estoy (?:bien|segur[oa]|tranquil[oa]) (?:ahora|ya)|ya estoy (?:bien|a salvo)|je suis en securite|je vais mieux maintenant|ca va mieux maintenant|ich bin (?:jetzt )?(?:in sicherheit|sicher)|mir geht es (?:jetzt )?besser)\b"
)
NOT_SAFE = re.compile(
    r"\b(?:not|never|dont feel|do not feel|no longer|isnt|arent|wasnt) (?:really |totally |completely )?(?:safe|ok|okay|alright|fine)\b|\bno estoy (?:a salvo|bien|segur[oa])\b|\bpas en securite\b|\bnicht (?:in )?sicher(?:heit)?\b|\bsafe\b.{0,20}\b(?:but|until|unless)\b"
)


def mask_figurative(text: str) -> tuple[str, int]:
    """Replace figurative risk-looking phrases by a marker; returns (text, count)."""
    return FIGURATIVE.subn(" _fig_ ", text)


# Suicide rules whose match may be negated ("I'm not suicidal", "I would never
# kill myself"). A negated match is kept as a weak distress signal, not dropped,
# so that negation plus other distress still adds up.
NEGATABLE = frozenset({"ssi.suicidal", "ssi.suicide_word", "ssi.want_to_die", "ssi.kill_self", "ssi.end_life", "ssi.self_harm"})
_NEGATION = re.compile(r"\b(?:not|never|no longer|isnt|arent|wasnt|dont|wouldnt|wont|wouldn t|nothing)\s+(?:\w+\s+){0,3}$")


def _negated(text: str, match: re.Match[str]) -> bool:
    return bool(_NEGATION.search(text[max(0, match.start() - 40):match.start()]))


def match_rules(text: str, light: str = "") -> list[Hit]:
    """All rules that fire on ``text`` (figurative phrases already masked) and ``light``."""
    hits = []
    for r in RULES:
        if r.name in NEGATABLE:
            matches = list(r.pattern.finditer(text))
            if not matches:
                continue
            if all(_negated(text, m) for m in matches):
                hits.append(Hit(r.name + ".negated", "distress", 0.5, None))
                continue
            hits.append(Hit(r.name, r.category, r.weight, r.level))
        elif r.pattern.search(text):
            hits.append(Hit(r.name, r.category, r.weight, r.level))
    if light:
        hits.extend(Hit(r.name, r.category, r.weight, r.level) for r in LIGHT_RULES if r.pattern.search(light))
    return hits
