"""The API's numeric language ids and their names, as ``GET /source-languages`` lists them."""

from __future__ import annotations

__all__ = ["LANGUAGES", "language_id"]

_LOCALES = """
1 en-us 2 af-za 3 am-et 4 ar-ae 5 ar-bh 6 ar-dz 7 ar-eg 8 ar-iq 9 ar-jo 10 ar-kw 11 ar-lb 12 ar-ly 13 ar-ma
14 ar-om 15 ar-qa 16 ar-sa 17 ar-sy 18 ar-tn 19 ar-ye 20 az-az 21 bg-bg 22 bn-bd 23 bn-in 24 bs-ba 25 ca-es
26 cs-cz 27 cy-gb 28 da-dk 29 de-at 30 de-ch 31 de-de 32 el-gr 33 en-au 34 en-ca 35 en-gb 36 en-hk 37 en-ie
38 en-in 39 en-ke 40 en-ng 41 en-nz 42 en-ph 43 en-sg 44 en-tz 45 en-za 46 es-ar 47 es-bo 48 es-cl 49 es-co
50 es-cr 51 es-cu 52 es-do 53 es-ec 54 es-es 55 es-gq 56 es-gt 57 es-hn 58 es-mx 59 es-ni 60 es-pa 61 es-pe
62 es-pr 63 es-py 64 es-sv 65 es-us 66 es-uy 67 es-ve 68 et-ee 69 eu-es 70 fa-ir 71 fi-fi 72 fil-ph 73 fr-be
74 fr-ca 75 fr-ch 76 fr-fr 77 ga-ie 78 gl-es 79 gu-in 80 he-il 81 hi-in 82 hr-hr 83 hu-hu 84 hy-am 85 id-id
86 is-is 87 it-it 88 ja-jp 89 jv-id 90 ka-ge 91 kk-kz 92 km-kh 93 kn-in 94 ko-kr 95 lo-la 96 lt-lt 97 lv-lv
98 mk-mk 99 ml-in 100 mn-mn 101 mr-in 102 ms-my 103 mt-mt 104 my-mm 105 nb-no 106 ne-np 107 nl-be 108 nl-nl
109 pl-pl 110 ps-af 111 pt-br 112 pt-pt 113 ro-ro 114 ru-ru 115 si-lk 116 sk-sk 117 sl-si 118 so-so 119 sq-al
120 sr-rs 121 su-id 122 sv-se 123 sw-ke 124 sw-tz 125 ta-in 126 ta-lk 127 ta-my 128 ta-sg 129 te-in 130 th-th
131 tr-tr 132 uk-ua 133 ur-in 134 ur-pk 135 uz-uz 136 vi-vn 139 zh-cn 140 zh-cn-henan 141 zh-cn-liaoning
142 zh-cn-shaanxi 143 zh-cn-shandong 144 zh-cn-sichuan 145 zh-hk 146 zh-tw 147 zu-za 148 pa-in 149 sa-in
150 ar-xa 151 tl-ph
"""

_LANGUAGE_NAMES = """
af=Afrikaans am=Amharic ar=Arabic az=Azerbaijani bg=Bulgarian bn=Bengali bs=Bosnian ca=Catalan cs=Czech
cy=Welsh da=Danish de=German el=Greek en=English es=Spanish et=Estonian eu=Basque fa=Persian fi=Finnish
fil=Filipino fr=French ga=Irish gl=Galician gu=Gujarati he=Hebrew hi=Hindi hr=Croatian hu=Hungarian
hy=Armenian id=Indonesian is=Icelandic it=Italian ja=Japanese jv=Javanese ka=Georgian kk=Kazakh km=Khmer
kn=Kannada ko=Korean lo=Lao lt=Lithuanian lv=Latvian mk=Macedonian ml=Malayalam mn=Mongolian mr=Marathi
ms=Malay mt=Maltese my=Burmese nb=Norwegian_Bokmål ne=Nepali nl=Dutch pa=Punjabi pl=Polish ps=Pashto
pt=Portuguese ro=Romanian ru=Russian sa=Sanskrit si=Sinhala sk=Slovak sl=Slovenian so=Somali sq=Albanian
sr=Serbian su=Sundanese sv=Swedish sw=Swahili ta=Tamil te=Telugu th=Thai tl=Tagalog tr=Turkish uk=Ukrainian
ur=Urdu uz=Uzbek vi=Vietnamese zh=Chinese zu=Zulu
"""

_REGION_NAMES = """
ae=United_Arab_Emirates af=Afghanistan al=Albania am=Armenia ar=Argentina at=Austria au=Australia
az=Azerbaijan ba=Bosnia_and_Herzegovina bd=Bangladesh be=Belgium bg=Bulgaria bh=Bahrain bo=Bolivia br=Brazil
ca=Canada ch=Switzerland cl=Chile cn=China co=Colombia cr=Costa_Rica cu=Cuba cz=Czechia de=Germany dk=Denmark
do=Dominican_Republic dz=Algeria ec=Ecuador ee=Estonia eg=Egypt es=Spain et=Ethiopia fi=Finland fr=France
gb=United_Kingdom ge=Georgia gq=Equatorial_Guinea gr=Greece gt=Guatemala hk=Hong_Kong hn=Honduras hr=Croatia
hu=Hungary id=Indonesia ie=Ireland il=Israel in=India iq=Iraq ir=Iran is=Iceland it=Italy jo=Jordan jp=Japan
ke=Kenya kh=Cambodia kr=South_Korea kw=Kuwait kz=Kazakhstan la=Laos lb=Lebanon lk=Sri_Lanka lt=Lithuania
lv=Latvia ly=Libya ma=Morocco mk=North_Macedonia mm=Myanmar mn=Mongolia mt=Malta mx=Mexico my=Malaysia
ng=Nigeria ni=Nicaragua nl=Netherlands no=Norway np=Nepal nz=New_Zealand om=Oman pa=Panama pe=Peru
ph=Philippines pk=Pakistan pl=Poland pr=Puerto_Rico pt=Portugal py=Paraguay qa=Qatar ro=Romania rs=Serbia
ru=Russia sa=Saudi_Arabia se=Sweden sg=Singapore si=Slovenia sk=Slovakia so=Somalia sv=El_Salvador sy=Syria
th=Thailand tn=Tunisia tr=Turkey tw=Taiwan tz=Tanzania ua=Ukraine us=United_States uy=Uruguay uz=Uzbekistan
ve=Venezuela vn=Vietnam xa=Gulf ye=Yemen za=South_Africa
"""


def _pairs(text: str) -> dict[str, str]:
    return dict(item.replace("_", " ").split("=") for item in text.split())


def _name(locale: str, languages: dict[str, str], regions: dict[str, str]) -> str:
    language, region, *rest = locale.split("-")
    place = ", ".join([regions.get(region, region.upper()), *(part.title() for part in rest)])
    return f"{languages.get(language, language)} ({place})"


def _table() -> list[dict[str, object]]:
    words = _LOCALES.split()
    languages, regions = _pairs(_LANGUAGE_NAMES), _pairs(_REGION_NAMES)
    return [
        {"id": int(number), "language": _name(locale, languages, regions), "short_name": locale}
        for number, locale in zip(words[::2], words[1::2], strict=True)
    ]


LANGUAGES: list[dict[str, object]] = _table()
"""Every language as ``{"id": 1, "language": "English (United States)", "short_name": "en-us"}``."""

_IDS: dict[str, int] = {str(item["short_name"]): int(str(item["id"])) for item in LANGUAGES}


def language_id(value: object) -> object:
    """The numeric id of a language given by id (maybe as a form field's string) or locale tag.

    Anything else comes back as it is.
    """
    if isinstance(value, str):
        return int(value) if value.isdigit() and len(value) < 10 else _IDS.get(value.lower(), value)
    return value
