import pytest

from sources import model_identity
from sources.model_identity import canonical_model

# (provider as the source names it, model id as the source writes it, canonical id).
# Every id below is a real id from genai-prices, LiteLLM or OpenRouter.
REAL_IDS = [
    # o3: genai-prices, LiteLLM (OpenAI, Azure, OpenRouter route), OpenRouter
    ("openai", "o3", "openai/o3"),
    ("openai", "o3-2025-04-16", "openai/o3"),
    ("azure", "azure/o3", "openai/o3"),
    ("azure", "o3-2025-04-16", "openai/o3"),
    ("openrouter", "openrouter/openai/o3", "openai/o3"),
    ("openrouter", "openai/o3", "openai/o3"),
    # Claude Sonnet 4.5 at Anthropic, Bedrock (plain and EU cross-region), Vertex, OpenRouter
    ("anthropic", "claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4.5"),
    ("anthropic", "claude-sonnet-4-5", "anthropic/claude-sonnet-4.5"),
    ("bedrock_converse", "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4.5"),
    ("bedrock_converse", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4.5"),
    ("vertex_ai-anthropic_models", "vertex_ai/claude-sonnet-4-5", "anthropic/claude-sonnet-4.5"),
    ("openrouter", "anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4.5"),
    ("openrouter", "anthropic/claude-4.5-sonnet-20250929:beta", "anthropic/claude-sonnet-4.5"),
    # genai-prices' Google provider resells Claude on Vertex: the creator is still Anthropic
    ("google", "claude-opus-4-6", "anthropic/claude-opus-4.6"),
    ("aws", "regional.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic/claude-haiku-4.5"),
    ("anthropic", "claude-3-5-sonnet-20240620", "anthropic/claude-3.5-sonnet"),
    ("vertex_ai-anthropic_models", "vertex_ai/claude-3-5-sonnet-v2@20241022", "anthropic/claude-3.5-sonnet"),
    ("anthropic", "claude-3-opus-latest", "anthropic/claude-3-opus"),
    # Gemini
    ("gemini", "gemini/gemini-2.5-pro", "google/gemini-2.5-pro"),
    ("vertex_ai-language-models", "gemini-2.5-pro", "google/gemini-2.5-pro"),
    ("openrouter", "google/gemini-2.5-pro", "google/gemini-2.5-pro"),
    ("openrouter", "google/gemini-2.0-flash-001", "google/gemini-2.0-flash"),
    ("google", "gemini-2.5-flash-preview-09-2025", "google/gemini-2.5-flash-preview"),
    ("gemini", "gemini/gemma-3-27b-it", "google/gemma-3-27b-it"),
    # OpenAI at Azure, snapshots, Azure spelling
    ("azure", "azure/eu/gpt-4o", "openai/gpt-4o"),
    ("openai", "gpt-4o-2024-08-06", "openai/gpt-4o"),
    ("azure", "gpt-35-turbo", "openai/gpt-3.5-turbo"),
    ("openai", "gpt-4-0613", "openai/gpt-4"),
    ("openai", "gpt-5-6-terra", "openai/gpt-5.6-terra"),
    ("openai", "text-embedding-3-small", "openai/text-embedding-3-small"),
    # Llama 3.3 70B at six resellers
    ("openrouter", "meta-llama/llama-3.3-70b-instruct", "meta-llama/llama-3.3-70b-instruct"),
    (
        "together_ai",
        "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "meta-llama/llama-3.3-70b-instruct",
    ),
    ("deepinfra", "deepinfra/meta-llama/Llama-3.3-70B-Instruct", "meta-llama/llama-3.3-70b-instruct"),
    ("cerebras", "cerebras/llama-3.3-70b", "meta-llama/llama-3.3-70b-instruct"),
    ("groq", "llama-3.3-70b-versatile", "meta-llama/llama-3.3-70b-instruct"),
    ("avian", "Meta-Llama-3.3-70B-Instruct", "meta-llama/llama-3.3-70b-instruct"),
    ("bedrock", "bedrock/eu-west-1/meta.llama3-70b-instruct-v1:0", "meta-llama/llama-3-70b-instruct"),
    ("aws", "meta.llama3-1-8b-instruct-v1:0", "meta-llama/llama-3.1-8b-instruct"),
    ("fireworks", "accounts/fireworks/models/llama-v3p1-405b-instruct", "meta-llama/llama-3.1-405b-instruct"),
    # DeepSeek
    ("fireworks_ai", "fireworks_ai/accounts/fireworks/models/deepseek-v3", "deepseek/deepseek-v3"),
    ("fireworks", "deepseek-v3p2", "deepseek/deepseek-v3.2"),
    ("deepseek", "deepseek/deepseek-chat", "deepseek/deepseek-chat"),
    ("openrouter", "deepseek/deepseek-chat", "deepseek/deepseek-chat"),
    ("openrouter", "deepseek/deepseek-v4-pro-0813", "deepseek/deepseek-v4-pro"),
    ("baseten", "deepseek-ai/DeepSeek-V4-Pro", "deepseek/deepseek-v4-pro"),
    ("aws", "deepseek.r1-v1:0", "deepseek/deepseek-r1"),
    # gpt-oss at Groq and Bedrock
    ("groq", "groq/openai/gpt-oss-120b", "openai/gpt-oss-120b"),
    ("aws", "openai.gpt-oss-120b-1:0", "openai/gpt-oss-120b"),
    # xAI, Mistral, Qwen, Amazon, smaller labs
    ("xai", "xai/grok-4.3", "x-ai/grok-4.3"),
    ("x-ai", "grok-4-0709", "x-ai/grok-4"),
    ("openrouter", "x-ai/grok-4.6", "x-ai/grok-4.6"),
    ("mistral", "mistral/mistral-large-latest", "mistralai/mistral-large"),
    ("openrouter", "mistralai/mistral-large", "mistralai/mistral-large"),
    ("codestral", "codestral/codestral-latest", "mistralai/codestral"),
    ("dashscope", "dashscope/qwen3-max", "qwen/qwen3-max"),
    ("cerebras", "qwen-3-32b", "qwen/qwen3-32b"),
    ("huggingface_nebius", "Qwen/Qwen3-32B", "qwen/qwen3-32b"),
    ("aws", "amazon.nova-lite-v1:0", "amazon/nova-lite"),
    ("openrouter", "amazon/nova-lite-v1", "amazon/nova-lite"),
    ("zai", "GLM-4.7-FlashX", "z-ai/glm-4.7-flashx"),
    ("cerebras", "zai-glm-4.7", "z-ai/glm-4.7"),
    ("voyageai", "voyage-3", "voyageai/voyage-3"),
    # OpenRouter variants are the base model; an unknown creator slug is kept as written
    ("openrouter", "liquid/lfm-2.5-2.6b:free", "liquid/lfm-2.5-2.6b"),
    ("openrouter", "google/gemini-3.7-flash:batch", "google/gemini-3.7-flash"),
]


@pytest.mark.parametrize(("provider", "model", "expected"), REAL_IDS)
def test_real_ids_map_to_one_canonical_model(provider, model, expected):
    assert canonical_model(provider, model) == expected


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openrouter", "~x-ai/grok-latest"),  # a moving pointer, resolved by the parser via alias_target
        ("openrouter", "openrouter/auto"),  # a router: no one model
        ("openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123"),  # a customer's fine-tune
        ("azure", "mai-ds-r1:free"),  # no family rule and Azure is not the creator
        ("fireworks", "ember-1"),
        ("openrouter", ""),
    ],
)
def test_ids_no_rule_can_read_stay_unmapped(provider, model):
    assert canonical_model(provider, model) is None


def test_a_snapshot_priced_apart_is_pinned_by_the_alias_table():
    assert canonical_model("openai", "gpt-4o-2024-05-13") == "openai/gpt-4o-2024-05-13"
    assert canonical_model("openrouter", "openai/gpt-4o-2024-05-13") == "openai/gpt-4o-2024-05-13"
    assert canonical_model("openai", "gpt-3.5-turbo-1106") == "openai/gpt-3.5-turbo-1106"
    assert canonical_model("openai", "gpt-3.5-turbo-0125") == "openai/gpt-3.5-turbo"


def test_version_spelling_touches_only_single_digit_versions():
    assert canonical_model("google", "gemma-3-4b-it") == "google/gemma-3-4b-it"
    assert canonical_model("openai", "gpt-4-32k") == "openai/gpt-4-32k"
    assert canonical_model("groq", "llama3-70b-8192") == "meta-llama/llama-3-70b-instruct"
    assert canonical_model("x-ai", "grok-4-1-fast-reasoning") == "x-ai/grok-4.1-fast-reasoning"


def test_case_and_whitespace_do_not_matter():
    assert canonical_model("OpenRouter", "  OpenAI/O3 ") == "openai/o3"


def test_every_alias_row_is_well_formed():
    aliases = model_identity._aliases()
    assert len(aliases) >= 20
    assert all("/" in canonical for canonical in aliases.values())


def test_an_alias_applies_only_to_its_creators_models():
    assert canonical_model("aws", "deepseek.r1-v1:0") == "deepseek/deepseek-r1"
    assert canonical_model("openrouter", "acme/r1") == "acme/r1"
