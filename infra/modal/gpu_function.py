"""The dreamurl GPU function on Modal: the image built from infra/Dockerfile, run as a Modal web server.

Modal starts the container, runs `serve()`, and routes HTTPS requests to port 8788 once it accepts
connections. LISTEN_WHEN_READY=1 makes the service open that port only after the model is loaded and
warm, so requests that arrive during a cold start wait at Modal's proxy instead of getting 503s.
`@modal.concurrent` lets one container hold many requests at once: the service batches them itself.

    pip install modal && modal setup
    modal secret create dreamurl-gpu-function GPU_FUNCTION_TOKEN=<random> HF_TOKEN=hf_...
    DREAMURL_GPU_IMAGE=ghcr.io/<you>/dreamurl-gpu-function:cuda modal deploy infra/modal/gpu_function.py

The deploy prints the URL (https://<workspace>--dreamurl-gpu-function-serve.modal.run): the edge's
GPU_FUNCTION_URL. See infra/README.md for the whole runbook.
"""

import os
import subprocess

import modal

# Read at deploy time (on your machine), baked into the app definition.
IMAGE = os.environ.get("DREAMURL_GPU_IMAGE", "ghcr.io/OWNER/dreamurl-gpu-function:cuda")
MODEL = os.environ.get("DREAMURL_MODEL", "CompVis/stable-diffusion-v1-4@onnx")
GPU = os.environ.get("DREAMURL_GPU", "L4")
MAX_CONTAINERS = int(os.environ.get("DREAMURL_MAX_CONTAINERS", "4"))

PORT = 8788
HF_HOME = "/data/huggingface"
MAX_BATCH_SIZE = 4
MAX_QUEUE = 32

image = modal.Image.from_registry(IMAGE, add_python="3.12").env(
    {
        "MODEL": MODEL,
        "HOST": "0.0.0.0",
        "PORT": str(PORT),
        "HF_HOME": HF_HOME,
        "EXECUTION_PROVIDER": "cuda",
        "MAX_BATCH_SIZE": str(MAX_BATCH_SIZE),
        "MAX_QUEUE": str(MAX_QUEUE),
        "LISTEN_WHEN_READY": "1",
    }
)

# The Hugging Face cache survives containers: only the first cold start downloads the model.
hf_cache = modal.Volume.from_name("dreamurl-hf-cache", create_if_missing=True)

app = modal.App("dreamurl-gpu-function")


@app.function(
    image=image,
    gpu=GPU,
    # GPU_FUNCTION_TOKEN (the edge sends it as a Bearer token) and HF_TOKEN (gated or private repos).
    secrets=[modal.Secret.from_name("dreamurl-gpu-function")],
    volumes={HF_HOME: hf_cache},
    min_containers=0,  # 1 keeps one warm: no cold start, billed while idle
    max_containers=MAX_CONTAINERS,
    scaledown_window=300,  # seconds idle before a container stops
    timeout=600,
)
# Requests one container takes at once: a full queue plus the running batch. Past it, Modal starts
# another container (up to max_containers) rather than the service answering 503.
@modal.concurrent(max_inputs=MAX_QUEUE + MAX_BATCH_SIZE)
@modal.web_server(port=PORT, startup_timeout=900)
def serve() -> None:
    subprocess.Popen(["node", "/app/dist/gpu-function/main.mjs"], cwd="/app")
