"""One id for one model across sources and resellers.

``canonical_model(provider, model)`` returns ``"<creator>/<name>"`` -- ``openai/o3``,
``anthropic/claude-sonnet-4.5``, ``meta-llama/llama-3.3-70b-instruct`` -- or None when no rule
maps the id; the pipeline lists those ids instead of guessing. The creator is the lab that made
the model, never the reseller: Bedrock's, Azure's, Vertex's, Groq's and OpenRouter's copies of a
model share its canonical id. ``provider`` is the source's provider id (genai-prices ``aws``,
LiteLLM ``bedrock_converse``, ``openrouter``, ...).

An id is read in steps, each a table or a regex below that can be reviewed on its own:

1. Routing (``_route``): lowercase; drop reseller and route prefixes (``openrouter/``, ``azure/``,
   ``vertex_ai/``, Fireworks' ``accounts/fireworks/models/``, the source's own provider prefix),
   the region segments that follow them (``azure/eu/``, ``bedrock/eu-west-1/``), Bedrock's
   cross-region prefix (``us.``, ``eu.``, ``apac.``, ``global.``) and Bedrock's vendor prefix
   (``anthropic.``, ``meta.``: it also names the creator).
2. The alias table ``catalog/model_aliases.csv`` on the routed name: it pins dated snapshots
   priced apart from their undated name (``gpt-4o-2024-05-13``) and names rules cannot read. An
   alias applies only when the id names no other creator (``acme/r1`` is not DeepSeek's R1).
3. Version suffixes (``_SUFFIXES``): OpenRouter variants (``:free``, ``:beta``, ``:thinking``,
   ``:batch``, ...: the same model, so the same canonical id; parsers keep the variant as a service
   tier), Bedrock versions (``-v1:0``), date stamps (``-2025-04-16``, ``-20250929``, ``-0613``,
   ``-2411``, ``-09-2025``, ``@20240620``), ``-latest``, Gemini's ``-001``, quantizations
   (``-fp8``) and Together's ``-instruct-turbo`` (an FP8 build of the same weights).
4. Spelling (``_SPELLING``): one spelling per version -- ``4-5`` becomes ``4.5`` (only a single
   digit on each side, so ``gemma-3-4b`` and ``gpt-4-32k`` are untouched), Claude >= 4 word order
   (``claude-4.5-sonnet`` -> ``claude-sonnet-4.5``), ``llama3`` -> ``llama-3``, ``qwen-3`` ->
   ``qwen3``, Fireworks' ``v3p2`` -> ``v3.2``.
5. The alias table again, on the spelled name.
6. The creator: the id's own organisation (``meta-llama/...``, normalised by ``_ORGS``; an
   organisation we do not know is kept as the source wrote it), else the Bedrock vendor, else
   the name's family (``_FAMILIES``: ``claude...`` -> anthropic), else the provider when the
   provider is itself a lab (``_LABS``: ``voyageai`` selling ``voyage-3``).

Decisions: moving pointers (OpenRouter's ``~x-ai/grok-latest``), routers (``openrouter/auto``)
and fine-tunes (``ft:...``) map to None. A dated snapshot maps to its undated name unless the
alias table pins it. DeepSeek's API names ``deepseek-chat`` / ``deepseek-reasoner`` stay
themselves: they have pointed at several models (V3, V3.1, V3.2) over time.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache, lru_cache
from importlib.resources import files

from sources.base import plain_id

# First path segments that name a route or a reseller, never a model's creator.
_ROUTES = frozenset(
    {
        "@cf", "@hf", "accounts", "ai21_chat", "anyscale", "azure", "azure_ai", "baseten", "bedrock",
        "bedrock_converse", "cerebras", "cloudflare", "codestral", "cohere_chat", "databricks", "deepinfra",
        "fireworks", "fireworks_ai", "friendliai", "github", "github_copilot", "groq", "huggingface",
        "hyperbolic", "lambda_ai", "models", "nebius", "novita", "nscale", "ollama", "ollama_chat",
        "openrouter", "ovhcloud", "replicate", "sagemaker", "sambanova", "snowflake", "text-completion-openai",
        "together", "together_ai", "vertex_ai", "vertex_ai_beta", "watsonx",
    }
)  # fmt: skip
# Segments after a route that name a region, a deployment or a commitment, not a model.
_REGION_SEGMENT = re.compile(
    r"eu|us|global|global-standard|apac|jp|au|ca|uk|invoke|converse|[a-z]{2}(?:-gov)?-[a-z]+-\d|\d+-month-commitment"
)
_BEDROCK_REGION = re.compile(r"^(?:us|eu|apac|global|regional|jp|au|ca|us-gov)\.")
_BEDROCK_VENDORS = {
    "ai21": "ai21", "amazon": "amazon", "anthropic": "anthropic", "cohere": "cohere", "deepseek": "deepseek",
    "google": "google", "meta": "meta-llama", "minimax": "minimax", "mistral": "mistralai",
    "moonshot": "moonshotai", "moonshotai": "moonshotai", "nvidia": "nvidia", "openai": "openai",
    "qwen": "qwen", "writer": "writer", "zai": "z-ai",
}  # fmt: skip
_BEDROCK_VENDOR = re.compile(rf"^({'|'.join(_BEDROCK_VENDORS)})\.(.+)$")

# (pattern, replacement), applied until none matches, so their order does not matter.
_SUFFIXES = (
    (re.compile(r":[0-9a-f]{32,}$"), ""),  # Replicate version hashes
    (re.compile(r":[a-z][a-z0-9-]*$"), ""),  # OpenRouter variants
    (re.compile(r"@[a-z0-9.-]+$"), ""),  # Vertex versions
    (re.compile(r"-v\d+(?::\d+)+(?::\d+k)?$"), ""),  # Bedrock -v1:0, -v1:0:200k
    (re.compile(r"-\d+:\d+$"), ""),  # Bedrock -1:0
    (re.compile(r"-(?:latest|maas)$"), ""),  # moving pointer; Vertex's model-as-a-service marker
    (re.compile(r"-20\d\d-\d\d-\d\d$"), ""),
    (re.compile(r"-20\d{6}$"), ""),
    (re.compile(r"-(?:0[1-9]|1[0-2])-20\d\d$"), ""),  # -09-2025
    (re.compile(r"(-preview)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$"), r"\1"),  # -preview-05-06
    # -0613 (month and day) or -2411 (year and month); 8192 or 2048 are neither.
    (re.compile(r"-(?:(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|2[3-9](?:0[1-9]|1[0-2]))$"), ""),
    (re.compile(r"^(gemini-.+)-0\d\d$"), r"\1"),  # Gemini's -001 stable versions
    (re.compile(r"^((?:nova|titan)-.+)-v\d+$"), r"\1"),  # Amazon's -v1 outside Bedrock
    (re.compile(r"-(?:fp8|fp4|nvfp4|int4|int8|awq|bf16)$"), ""),
    (re.compile(r"(-instruct)-turbo$"), r"\1"),
)

_SPELLING = (
    (re.compile(r"^databricks-"), ""),  # Databricks prefixes the names of the models it serves
    (re.compile(r"^meta-llama-"), "llama-"),
    (re.compile(r"^llama(\d)"), r"llama-\1"),
    (re.compile(r"^qwen-(\d)"), r"qwen\1"),
    (re.compile(r"^zai-glm"), "glm"),
    (re.compile(r"(?<![\d.])(\d)-(\d)(?=$|[-:@/])"), r"\1.\2"),
    (re.compile(r"^claude-([4-9](?:\.\d)?)-(opus|sonnet|haiku)"), r"claude-\2-\1"),
)
# Fireworks writes versions with a 'p' (llama-v3p1, deepseek-v3p2); elsewhere a 'p' is a letter.
_FIREWORKS_POINT = (re.compile(r"(?<=\d)p(?=\d)"), ".")
_FIREWORKS_LLAMA = (re.compile(r"^llama-v(\d)"), r"llama-\1")

# Organisation segments as sources write them -> the creator id used in canonical ids
# (OpenRouter's creator slugs, the most widely used).
_ORGS = {
    "ai21": "ai21", "ai21labs": "ai21", "alibaba": "qwen", "amazon": "amazon", "anthropic": "anthropic",
    "cohere": "cohere", "coherelabs": "cohere", "deepseek": "deepseek", "deepseek-ai": "deepseek",
    "google": "google", "meta": "meta-llama", "meta-llama": "meta-llama", "microsoft": "microsoft",
    "minimax": "minimax", "minimaxai": "minimax", "mistral": "mistralai", "mistralai": "mistralai",
    "moonshotai": "moonshotai", "nvidia": "nvidia", "openai": "openai", "qwen": "qwen", "thudm": "z-ai",
    "x-ai": "x-ai", "xai": "x-ai", "z-ai": "z-ai", "zai-org": "z-ai", "zhipuai": "z-ai",
}  # fmt: skip
_ORG = re.compile(r"[a-z0-9][a-z0-9.-]*")  # no '_': LiteLLM route names (together_ai) have one

# Model families -> creator, first match wins (deepseek before llama: deepseek-r1-distill-llama).
_FAMILIES = (
    (re.compile(r"sonar|^pplx-"), "perplexity"),
    (re.compile(r"^claude"), "anthropic"),
    (
        re.compile(
            r"^(?:gpt-|chatgpt-|o\d(?:-|$)|text-embedding-(?:3|ada)|text-davinci|(?:ada|babbage|curie|davinci)(?:-\d+)?$"
            r"|whisper|tts-|dall-e|omni-moderation|text-moderation|codex-|computer-use)"
        ),
        "openai",
    ),
    (
        re.compile(
            r"^(?:gemini|gemma|learnlm|palm|text-bison|chat-bison|text-embedding-00|text-multilingual-embed|imagen|veo)"
        ),
        "google",
    ),
    (re.compile(r"^deepseek"), "deepseek"),
    (re.compile(r"^(?:llama|codellama)"), "meta-llama"),
    (
        re.compile(
            r"^(?:mistral|mixtral|codestral|ministral|pixtral|magistral|devstral|voxtral|open-mi[sx]tral)"
        ),
        "mistralai",
    ),
    (re.compile(r"^grok"), "x-ai"),
    (re.compile(r"^(?:qwen|qwq|qvq)"), "qwen"),
    (re.compile(r"^(?:command|c4ai-|aya-|embed-(?:english|multilingual|v\d))"), "cohere"),
    (re.compile(r"^(?:nova-|titan-)"), "amazon"),
    (re.compile(r"^jamba"), "ai21"),
    (re.compile(r"^(?:kimi|moonshot-)"), "moonshotai"),
    (re.compile(r"^(?:glm|chatglm)"), "z-ai"),
    (re.compile(r"^minimax"), "minimax"),
    (re.compile(r"^phi-"), "microsoft"),
    (re.compile(r"^voyage-"), "voyageai"),
)

# Providers that are labs selling their own models: the creator when the name has no family.
_LABS = {
    "ai21": "ai21", "anthropic": "anthropic", "codestral": "mistralai", "cohere": "cohere",
    "cohere_chat": "cohere", "dashscope": "qwen", "deepseek": "deepseek", "gemini": "google", "google": "google",
    "meta": "meta-llama", "minimax": "minimax", "mistral": "mistralai", "moonshot": "moonshotai",
    "moonshotai": "moonshotai", "openai": "openai", "perplexity": "perplexity", "voyage": "voyageai",
    "voyageai": "voyageai", "x-ai": "x-ai", "xai": "x-ai", "zai": "z-ai", "zhipuai": "z-ai",
}  # fmt: skip


@cache  # a LiteLLM or genai-prices payload asks for thousands of ids, many of them more than once
def canonical_model(provider: str, model: str) -> str | None:
    """The creator-qualified id of ``model`` as sold by ``provider``, or None when unmapped.

    Both are read in NFKC form (``ｇｐｔ-4o`` is ``gpt-4o``); an id that still holds a character
    outside printable ASCII (a Cyrillic о) raises ``BadRecord`` rather than map to the real model.
    """
    return _canonical(
        plain_id(provider or "", field="provider").strip().lower(),
        plain_id(model or "", field="model").strip().lower(),
    )


@lru_cache(maxsize=1 << 16)
def _canonical(provider: str, model: str) -> str | None:
    if not model or model.startswith(("~", "ft:")) or any(c.isspace() for c in model):
        return None
    org, vendor, name = _route(provider, model)
    owner = _ORGS.get(org, org) if org else vendor
    spelled = _spell(_strip_suffixes(name), fireworks="fireworks" in provider or "fireworks/" in model)
    for candidate in (name, spelled):
        alias = _aliases().get(candidate)
        # An alias names one creator's model: another organisation's 'r1' is not DeepSeek's.
        if alias and owner in (None, alias.split("/")[0]):
            return alias
    creator = owner or _family(spelled) or _LABS.get(provider)
    return f"{creator}/{spelled}" if creator and spelled else None


def _route(provider: str, model: str) -> tuple[str | None, str | None, str]:
    """(organisation segment, Bedrock vendor's creator, bare name) with every route removed."""
    routes = _ROUTES | {provider, provider.split("-")[0]}
    parts = [p for p in model.split("/") if p]
    while len(parts) > 1 and parts[0] in routes:
        parts.pop(0)
        while len(parts) > 1 and _REGION_SEGMENT.fullmatch(parts[0]):
            parts.pop(0)
    org = None
    if len(parts) >= 2 and (parts[-2] in _ORGS or (len(parts) == 2 and _ORG.fullmatch(parts[0]))):
        org = parts[-2]
    name = parts[-1] if parts else ""
    vendor = None
    match = _BEDROCK_VENDOR.match(_BEDROCK_REGION.sub("", name))
    if match:
        vendor, name = _BEDROCK_VENDORS[match[1]], match[2]
    return org, vendor, name


def _strip_suffixes(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for pattern, replacement in _SUFFIXES:
            stripped = pattern.sub(replacement, name)
            if stripped != name and stripped:
                name, changed = stripped, True
    return name


def _spell(name: str, *, fireworks: bool) -> str:
    rules = (_FIREWORKS_LLAMA, _FIREWORKS_POINT, *_SPELLING) if fireworks else _SPELLING
    for pattern, replacement in rules:
        name = pattern.sub(replacement, name)
    return name


def _family(name: str) -> str | None:
    return next((creator for pattern, creator in _FAMILIES if pattern.search(name)), None)


@cache
def _aliases() -> dict[str, str]:
    """alias -> canonical from the reviewed table; a malformed table fails loudly at first use."""
    text = (files("sources") / "catalog" / "model_aliases.csv").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
        alias, canonical = (row.get("alias") or "").strip(), (row.get("canonical") or "").strip()
        if (
            alias != alias.lower()
            or not re.fullmatch(r"[a-z0-9-]+/[a-z0-9.:-]+", canonical)
            or alias in table
        ):
            raise ValueError(f"model_aliases.csv line {line}: bad or repeated alias row {row}")
        table[alias] = canonical
    return table
