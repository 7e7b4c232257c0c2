"""The API's numeric language ids and their names, as ``GET /source-languages`` lists them.

The ids and locales are the SDK's own table (``camb_async._languages``, model data
the simulator may share); the names are spelled out here.
"""

from __future__ import annotations

from .._languages import LOCALE_OF_ID

__all__ = ["LANGUAGES", "language_id"]


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
    languages, regions = _pairs(_LANGUAGE_NAMES), _pairs(_REGION_NAMES)
    return [
        {"id": number, "language": _name(locale, languages, regions), "short_name": locale}
        for number, locale in LOCALE_OF_ID.items()
    ]


LANGUAGES: list[dict[str, object]] = _table()
"""Every language as ``{"id": 1, "language": "English (United States)", "short_name": "en-us"}``."""

_IDS: dict[str, int] = {str(item["short_name"]): int(str(item["id"])) for item in LANGUAGES} | {"en-uk": 35}


def language_id(value: object) -> object:
    """The numeric id of a language given by id (maybe as a form field's string) or locale tag.

    Anything else comes back as it is.
    """
    if isinstance(value, str):
        return int(value) if value.isdigit() and len(value) < 10 else _IDS.get(value.lower(), value)
    return value
