"""What an evidence package says in words, in Ukrainian and English.

`LABELS` are the headings of the summary; `explain_reason` turns one stored reason of a
sighting into a sentence; `SCORE` and `LIMITS` say what a score is and is not. Every text is a
`Bilingual` pair, so the summary shows both languages side by side and case.json carries both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Bilingual:
    uk: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"uk": self.uk, "en": self.en}


def _b(uk: str, en: str) -> Bilingual:
    return Bilingual(uk, en)


LABELS: dict[str, Bilingual] = {
    "title": _b("Пакет доказів", "Evidence package"),
    "case": _b("Справа", "Case"),
    "prepared_for": _b("Підготовлено для", "Prepared for"),
    "scope": _b("Згода, на яку спираємося", "Consent scope relied on"),
    "organisation": _b("Організація", "Organisation"),
    "exported": _b("Експортовано", "Exported"),
    "person": _b("Зникла особа", "Missing person"),
    "born": _b("народж.", "born"),
    "opened": _b("Справу відкрито", "Case opened"),
    "by": _b("ким", "by"),
    "audit": _b("Журнал аудиту", "Audit log"),
    "intact": _b("цілісний", "intact"),
    "broken": _b("ВИЯВЛЕНО ПРОБЛЕМИ", "PROBLEMS FOUND"),
    "signature": _b("Підпис", "Signature"),
    "sightings": _b("Підтверджені виявлення", "Confirmed sightings"),
    "sighting": _b("Виявлення", "Sighting"),
    "score": _b("оцінка кандидата", "candidate score"),
    "source": _b("Джерело", "Source"),
    "posted": _b("опубліковано", "posted"),
    "original": _b("Оригінальний файл", "Original file"),
    "references": _b("Фото від родини", "Reference photos from the family"),
    "crops": _b("Знайдені обличчя (той самий масштаб)", "Matched faces (same scale)"),
    "frames": _b("Ключові кадри", "Key frames"),
    "no_reference": _b("Фото від родини не включено: згода не дозволяє передати його цьому отримувачу",
                       "No reference photo included: consent does not allow sharing it with this recipient"),
    "transcript": _b("Уривок розшифровки мовлення", "Transcript excerpt"),
    "post_text": _b("Текст допису", "Post text"),
    "posts": _b("Той самий матеріал опубліковано тут", "The same footage was posted here"),
    "posted_at_places": _b("місць публікації", "places it was posted"),
    "collected": _b("зібрано", "collected"),
    "reasons": _b("Чому програма запропонувала це виявлення", "Why the software proposed this sighting"),
    "decisions": _b("Рішення рецензентів (незалежні, сліпі)", "Reviewers' decisions (independent, blind)"),
    "reviewer": _b("Рецензент", "Reviewer"),
    "verdict": _b("Рішення", "Decision"),
    "when": _b("Коли", "When"),
    "checklist": _b("Порівняльний перелік", "Checklist"),
    "observation": _b("Спостереження", "Observation"),
    "revealed": _b("усі зображення переглянуто без розмиття", "every image viewed un-blurred"),
    "amended": _b("змінено", "amended"),
    "models": _b("Моделі та версії", "Models and versions"),
    "score_meaning": _b("Що означає оцінка", "What the score means"),
    "limits": _b("Межі", "Limits"),
    "consents": _b("Згода родини", "Family consent"),
    "given_by": _b("Хто надав", "Given by"),
    "relation": _b("Ким доводиться", "Relation"),
    "given_on": _b("Дата", "Date"),
    "scopes": _b("Обсяг", "Scope"),
    "document": _b("Документ", "Document"),
    "notes": _b("Нотатки справи", "Case notes"),
    "custody": _b("Ланцюг зберігання", "Chain of custody"),
    "step": _b("Етап", "Step"),
    "who": _b("Хто / що", "Who / what"),
    "what": _b("Подія", "What"),
    "files": _b("Файли", "Files"),
    "excluded": _b("Не включено (згода або статус)", "Left out (consent or status)"),
    "verify": _b("Як перевірити цей пакет", "How to check this package"),
}

STEPS: dict[str, Bilingual] = {
    "capture": _b("збір", "capture"), "consent": _b("згода", "consent"), "enrollment": _b("зразок фото", "enrollment"),
    "analysis": _b("аналіз", "analysis"), "matching": _b("зіставлення", "matching"),
    "decision": _b("рішення", "decision"), "case": _b("справа", "case"), "export": _b("експорт", "export"),
}

FEATURES: dict[str, Bilingual] = {
    "face_shape": _b("форма обличчя", "face shape"), "hairline": _b("лінія волосся", "hairline"),
    "eyebrows": _b("брови", "eyebrows"), "eyes": _b("очі", "eyes"), "nose": _b("ніс", "nose"),
    "ears": _b("вуха", "ears"), "mouth": _b("рот", "mouth"), "marks": _b("особливі прикмети", "marks"),
}
ASSESSMENTS: dict[str, Bilingual] = {
    "similar": _b("схожі", "similar"), "different": _b("відмінні", "different"),
    "not-visible": _b("не видно", "not visible"),
}
VERDICTS: dict[str, Bilingual] = {
    "confirm": _b("підтверджую", "confirm"), "reject": _b("відхиляю", "reject"), "unsure": _b("не впевнений", "unsure"),
    "resolve-confirm": _b("адмін: підтверджено", "admin: confirmed"),
    "resolve-reject": _b("адмін: відхилено", "admin: rejected"),
}
FIELDS: dict[str, Bilingual] = {
    "transcript": _b("у розшифровці мовлення", "in the speech transcript"),
    "post": _b("у тексті допису", "in the post text"), "text": _b("у тексті допису", "in the post text"),
}

SCORE = _b(
    "Оцінка від 0 до 1 лише впорядковує кандидатів для людської перевірки: вища — схожіше. Для обличчя "
    "вона обчислюється з відстані між векторами ознак обличчя (менша відстань — схожіше); оцінка 0,5 "
    "відповідає пороговій відстані {threshold}. Оцінка не є ймовірністю того, що це та сама особа. "
    "Для імені оцінка відображає, наскільки почуте чи написане слово схоже на прізвище та ім'я.",
    "The score (0 to 1) only ranks candidates for human review: higher means more alike. For a face it is "
    "computed from the distance between face feature vectors (a smaller distance is more alike); a score "
    "of 0.5 corresponds to the distance threshold {threshold}. The score is not a probability that this is "
    "the same person. For a name it reflects how closely a heard or written word resembles the surname and "
    "first name.")

LIMITS = _b(
    "Збіг, знайдений програмою, не є ідентифікацією. Якість зображення, ракурс, освітлення, травми, вік на "
    "фото від родини та упередженість навчальних даних моделей можуть давати як хибні збіги, так і пропуски. "
    "Розшифровка мовлення автоматична і може помилятися в іменах. Висновок про те, що на записі саме ця особа, "
    "зробили люди — незалежні рецензенти, чиї рішення та спостереження наведено нижче.",
    "A match found by software is not an identification. Image quality, angle, lighting, injuries, the age "
    "of the family's photo and biases in the models' training data can all cause both false matches and "
    "misses. The speech transcript is automatic and may mis-hear names. The conclusion that the footage shows "
    "this person was reached by people: independent reviewers, whose decisions and observations follow.")


def clock(seconds: float | None) -> str:
    """`m:ss.s` for a time in a video; empty for a photo."""
    if seconds is None:
        return ""
    minutes, rest = divmod(float(seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def moment(iso: str | None) -> str:
    """An ISO time as `YYYY-MM-DD HH:MM:SS` and its offset (`Z` for UTC), for reading; a date stays a date."""
    if not iso or "T" not in str(iso):
        return str(iso or "")
    try:
        when = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    offset = when.strftime("%z")
    zone = "Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
    return when.strftime("%Y-%m-%d %H:%M:%S") + zone


def explain_reason(reason: dict[str, Any], threshold: float) -> Bilingual:
    """One stored reason of a sighting as a sentence in both languages."""
    kind = reason.get("kind")
    if kind == "face":
        return _face(reason, threshold)
    where = FIELDS.get(str(reason.get("field", "transcript")), FIELDS["transcript"])
    at = f" ({clock(reason['time'])})" if isinstance(reason.get("time"), (int, float)) else ""
    text = reason.get("text", "")
    if kind == "name":
        sim = f"; схожість {reason['similarity']}" if "similarity" in reason else ""
        sim_en = f"; similarity {reason['similarity']}" if "similarity" in reason else ""
        return _b(f"Ім'я «{text}» {where.uk}{at}{sim}.", f"The name “{text}” {where.en}{at}{sim_en}.")
    named = {"unit": ("Номер частини", "Unit number"), "place": ("Місце", "Place"),
             "birth-year": ("Рік народження", "Year of birth")}
    uk, en = named.get(str(kind), (str(kind), str(kind)))
    return _b(f"{uk} «{text}» {where.uk}{at}.", f"{en} “{text}” {where.en}{at}.")


def _face(reason: dict[str, Any], threshold: float) -> Bilingual:
    threshold = reason.get("threshold", threshold)        # the face model's threshold the sighting was scored with
    distance, frames = reason.get("distance"), reason.get("frames")
    ref = reason.get("reference_id")
    return _b(
        f"Обличчя на записі схоже на фото від родини №{ref}: відстань {distance} (поріг {threshold}; менше — "
        f"схожіше), оцінка {reason.get('score')}, облич у треку: {frames}.",
        f"The face in the footage resembles reference photo {ref}: distance {distance} (threshold {threshold}; "
        f"smaller is more alike), score {reason.get('score')}, faces in the track: {frames}.")
