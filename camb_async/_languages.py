"""The API's numeric language ids by locale, for the endpoints that take only one of the two.

``POST /tts`` takes a language as its int id and ``POST /tts-stream`` as a locale
string; the SDK accepts either everywhere and converts where the API needs it.

Id 35 (UK English) has two locales: camb-sdk's id table names it ``en-gb`` and its
tts-stream schema lists ``en-uk`` (and no ``en-gb``). Both are read as 35, and
tts-stream is sent ``en-uk`` for it, whichever way the caller named it.
"""

from __future__ import annotations

__all__ = ["LOCALE_OF_ID", "language_id", "live_locale", "stream_locale"]

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

LOCALE_OF_ID: dict[int, str] = {
    int(number): locale for number, locale in zip(*[iter(_LOCALES.split())] * 2, strict=True)
}
"""Every language id of the API and its locale (``1: "en-us"``)."""
_ID_OF_LOCALE = {locale: number for number, locale in LOCALE_OF_ID.items()} | {"en-uk": 35}
_STREAM_LOCALE = {35: "en-uk"}
"""Where tts-stream's locale for an id differs from the id table's."""


def language_id(language: int | str) -> int:
    """``language`` as the API's int id; ``ValueError`` for a locale it does not know."""
    if isinstance(language, int):
        return language
    try:
        return _ID_OF_LOCALE[language.lower()]
    except KeyError:
        raise ValueError(
            f"unknown language {language!r}: pass its int id or a locale such as 'en-us' "
            "(client.languages.source() lists them)"
        ) from None


def stream_locale(language: int | str) -> str:
    """``language`` as the locale tts-stream takes (``en-uk`` for UK English, however
    named); ``ValueError`` for an id it does not know."""
    if isinstance(language, str):
        number = _ID_OF_LOCALE.get(language.lower())
        return _STREAM_LOCALE.get(number, language) if number is not None else language
    return _STREAM_LOCALE.get(language) or _locale_of(language)


def live_locale(language: int | str) -> str:
    """``language`` as the live (WebSocket) endpoints take it: a locale as given (the
    server validates it), an int id as the id table's locale (``en-gb`` for 35, as
    their reference lists it); ``ValueError`` for an id it does not know."""
    return language if isinstance(language, str) else _locale_of(language)


def _locale_of(number: int) -> str:
    try:
        return LOCALE_OF_ID[number]
    except KeyError:
        raise ValueError(f"unknown language id {number}: pass a locale such as 'en-us'") from None
