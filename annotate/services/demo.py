"""Demo data for `make demo`: two locales, a rubric, ~30 prompts with 2–4 candidates each, three people."""

from __future__ import annotations

import json
import random

from django.db import transaction

from annotate.models import Campaign, Locale, Rubric
from annotate.services.importing import import_comparisons
from annotate.services.users import user_create

DEMO_PASSWORD = "verdict-demo"
DEMO_USERS = (("lena", "lead"), ("alice", "reviewer"), ("bob", "reviewer"))
DEMO_CAMPAIGN = "demo-helpfulness"
LOCALES = {"en-US": "English (US)", "ja-JP": "Japanese (Japan)"}

EN_TOPICS = [
    ("How do I boil an egg?", "Place the egg in boiling water for 9 minutes, then cool it in cold water."),
    ("What is the capital of France?", "The capital of France is Paris."),
    (
        "Explain recursion in one sentence.",
        "Recursion is when a function solves a problem by calling itself on a smaller part of it.",
    ),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("Suggest a name for a grey cat.", "How about 'Ash' or 'Smokey'?"),
    ("What does HTTP stand for?", "HTTP stands for HyperText Transfer Protocol."),
    (
        "Why is the sky blue?",
        "Sunlight scatters off air molecules, and blue light scatters the most (Rayleigh scattering).",
    ),
    ("Convert 10 km to miles.", "10 km is about 6.21 miles."),
    ("Give me a tip for better sleep.", "Keep a regular bedtime and avoid screens for an hour before sleeping."),
    ("What is 17 times 3?", "17 times 3 is 51."),
    ("Write a haiku about rain.", "Soft rain on the roof / the garden drinks in silence / puddles hold the sky"),
    ("What is photosynthesis?", "Plants turn light, water and carbon dioxide into sugar and oxygen."),
    ("How do I reverse a list in Python?", "Use my_list.reverse() in place, or my_list[::-1] for a reversed copy."),
    ("Who wrote Hamlet?", "William Shakespeare wrote Hamlet."),
    ("What is a prime number?", "A whole number above 1 whose only divisors are 1 and itself."),
    ("Recommend a beginner houseplant.", "A pothos: it tolerates low light and irregular watering."),
    ("How far is the Moon?", "About 384,400 km from Earth on average."),
    ("What is the boiling point of water?", "100 °C at sea level."),
    ("Name three primary colours.", "Red, yellow and blue (in traditional colour theory)."),
    (
        "How do I apologise to a friend?",
        "Say what you did, acknowledge how it affected them, and say what you'll do differently.",
    ),
]
JA_TOPICS = [
    ("日本の首都はどこですか？", "日本の首都は東京です。"),
    ("富士山の高さは？", "富士山の高さは3,776メートルです。"),
    ("おすすめの朝ごはんは？", "ご飯、味噌汁、焼き魚の和朝食がおすすめです。"),
    ("「ありがとう」を英語で言うと？", "「Thank you」です。"),
    ("猫の平均寿命は？", "室内飼いの猫はおよそ15年生きます。"),
    ("水の化学式は？", "水の化学式はH2Oです。"),
    ("俳句の音数は？", "俳句は五・七・五の十七音です。"),
    ("一週間は何日ですか？", "一週間は7日です。"),
    ("桜が咲くのはいつ？", "多くの地域で3月下旬から4月上旬です。"),
    ("緑茶の適温は？", "煎茶なら70〜80℃くらいが目安です。"),
]
WEAK_ANSWERS = ["I don't know.", "Maybe. It depends.", "Search it online.", "That is a hard question."]
JA_WEAK = ["わかりません。", "場合によります。", "調べてください。"]


def _rows(rng: random.Random) -> list[dict]:
    rows = []
    for index, (locale, topics, weak) in enumerate([("en-US", EN_TOPICS, WEAK_ANSWERS), ("ja-JP", JA_TOPICS, JA_WEAK)]):
        for number, (question, good) in enumerate(topics):
            answers = [good, good.split(".")[0] + " — roughly.", *rng.sample(weak, k=rng.randint(0, 2))]
            answers = list(dict.fromkeys(answers))
            candidates = [
                {"id": f"c{k}", "text": text, "model": rng.choice(["atlas", "borealis"]), "model_version": "v1"}
                for k, text in enumerate(answers)
            ]
            prompt_key = "messages" if number % 4 == 0 else "prompt"
            prompt = [{"role": "user", "content": question}] if prompt_key == "messages" else question
            tags = {"scenario": rng.choice(["factual", "advice", "creative"]), "risk": "low"}
            rows.append(
                {
                    "id": f"{locale}-{index}-{number}",
                    "locale": locale,
                    prompt_key: prompt,
                    "tags": tags,
                    "candidates": candidates,
                }
            )
    return rows


@transaction.atomic
def seed_demo() -> Campaign:
    for code, name in LOCALES.items():
        Locale.objects.update_or_create(code=code, defaults={"name": name})
    rubric = Rubric.objects.filter(slug="helpfulness").first() or Rubric.objects.create(
        slug="helpfulness",
        title="Helpfulness and correctness",
        guidelines="Prefer the answer that is **correct** first, then **helpful**, then **clear**.",
        criteria=[
            {"key": "correctness", "label": "Correctness", "description": "Facts are right.", "scale": 5},
            {"key": "helpfulness", "label": "Helpfulness", "description": "Answers what was asked.", "scale": 5},
        ],
    )
    Campaign.objects.get_or_create(
        slug=DEMO_CAMPAIGN,
        defaults={"name": "Demo: helpfulness", "rubric": rubric, "overlap": 2, "gold_rate": 0.0},
    )
    data = "\n".join(json.dumps(row, ensure_ascii=False) for row in _rows(random.Random(7))).encode()
    import_comparisons(campaign_slug=DEMO_CAMPAIGN, data=data, pairs="all")
    for username, role in DEMO_USERS:
        user_create(username=username, role=role, locales=list(LOCALES), password=DEMO_PASSWORD)
    return Campaign.objects.get(slug=DEMO_CAMPAIGN)
