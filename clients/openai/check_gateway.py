"""The official `openai` Python package against Cinder's gateway.

    python check_gateway.py http://127.0.0.1:8080 sk-key

Runs what a dapp written for OpenAI runs, unchanged but for `base_url`:
models, an embedding, a batch of embeddings, a chat completion, the same
streamed, and two errors (an unknown model, an unknown key). Each check
asserts what the answer must be; the last line printed is a JSON summary.
Exits non-zero on the first failed check.
"""

import json
import math
import struct
import sys

import openai
from openai import OpenAI

EMBEDDER = "all-MiniLM-L6-v2"
CHAT = "SmolLM2-135M-Instruct"


def f32s(vector):
    return struct.pack(f"<{len(vector)}f", *vector)


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def main(base, key):
    client = OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=600)
    summary = {"openai": openai.__version__}

    names = [m.id for m in client.models.list().data]
    assert names == [EMBEDDER, CHAT], names
    summary["models"] = names

    # One text; the client asks for base64 by default and decodes it.
    one = client.embeddings.create(model=EMBEDDER, input="A man is eating food.")
    assert len(one.data[0].embedding) == 384, len(one.data[0].embedding)
    assert one.usage.prompt_tokens > 0
    request = one.model_extra["cinder"][0]["request"]
    assert isinstance(request, int), one.model_extra

    # A batch, in order: the same text gives the same bits.
    texts = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell."]
    batch = client.embeddings.create(model=EMBEDDER, input=texts, encoding_format="float")
    vectors = [d.embedding for d in sorted(batch.data, key=lambda d: d.index)]
    assert [d.index for d in batch.data] == [0, 1, 2]
    # Floats travel as their shortest f32 decimals, base64 as the f32s
    # themselves: both are the same f32s.
    assert f32s(vectors[0]) == f32s(one.data[0].embedding), "the same text, the same bits"
    near, far = cosine(vectors[0], vectors[1]), cosine(vectors[0], vectors[2])
    assert near > far, (near, far)
    summary["cosine"] = {"bread": round(near, 4), "stocks": round(far, 4)}

    messages = [{"role": "user", "content": "What is the capital of France?"}]
    reply = client.chat.completions.create(
        model=CHAT, messages=messages, temperature=0, max_tokens=24
    )
    text = reply.choices[0].message.content
    assert text == "The capital of France is Paris.", text
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens == 8, reply.usage
    cinder = reply.model_extra["cinder"]
    assert cinder["state"] in ("answered", "settled"), cinder
    summary["chat"] = {"reply": text, "request": cinder["request"], "price": cinder["price"]}

    stream = client.chat.completions.create(
        model=CHAT, messages=messages, temperature=0, max_tokens=24, stream=True
    )
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text, streamed
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    summary["stream"] = {"chunks": len(chunks), "text": streamed}

    try:
        client.embeddings.create(model="no-such-model", input="x")
        raise AssertionError("an unknown model was served")
    except openai.NotFoundError as e:
        assert e.status_code == 404 and e.code == "model_not_found", e
    try:
        OpenAI(base_url=base + "/v1", api_key="sk-wrong", max_retries=0).models.list()
        raise AssertionError("an unknown key was served")
    except openai.AuthenticationError as e:
        assert e.status_code == 401, e
    summary["errors"] = ["model_not_found", "invalid_api_key"]

    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
