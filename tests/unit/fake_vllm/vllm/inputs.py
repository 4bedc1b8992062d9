"""Fake vllm.inputs."""


def TokensPrompt(**kwargs):  # noqa: N802 - same name as vLLM's TypedDict
    return dict(kwargs)


def TextPrompt(**kwargs):  # noqa: N802
    return dict(kwargs)
