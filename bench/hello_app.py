"""The bare FastAPI hello-world that bench/cloud.py compares the platform against."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
