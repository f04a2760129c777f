"""The object store seam: one bucket behind a boto3 client, and the configuration that reaches it."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import itertools
import json
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pydantic import SecretStr

from pipeline.errors import ConfigError, ObjectNotFound, PreconditionFailed, StorageError, TransientStorageError
from pipeline.settings import Settings
from pipeline.storage.credentials import read_credentials

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef, ObjectTypeDef

__all__ = ["ObjectStore", "S3Config", "StoredObject"]

MULTIPART_THRESHOLD = 16 * 1024 * 1024
_TRANSFER = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=8 * 1024 * 1024)
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_PRECONDITION_FAILED = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
# Wrong credentials or permissions: the same on every retry.
_REFUSED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "InvalidBucketName"}


@dataclass(frozen=True)
class S3Config:
    endpoint_url: str | None
    access_key_id: str
    secret_access_key: SecretStr
    region: str
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Config:
        """Use the AWS_* settings when given, else the embedded server's credentials."""
        if settings.aws_access_key_id and settings.aws_secret_access_key:
            return cls(
                settings.s3_endpoint,
                settings.aws_access_key_id,
                settings.aws_secret_access_key,
                settings.aws_region,
                settings.s3_retry_mode,
            )
        creds = read_credentials(settings.local_dir)
        if creds is None:
            raise ConfigError(
                "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(and AWS_ENDPOINT_URL_S3), or start the embedded store with `news s3 up`"
            )
        endpoint = settings.s3_endpoint or f"http://127.0.0.1:{settings.s3_port}"
        return cls(endpoint, creds.access_key_id, creds.secret_access_key, settings.aws_region, settings.s3_retry_mode)


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    content_type: str
    metadata: dict[str, str]


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class ObjectStore:
    """One bucket behind a boto3 client; the only code that talks to S3."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self.endpoint = client.meta.endpoint_url

    @classmethod
    def from_config(cls, config: S3Config, bucket: str) -> ObjectStore:
        client = boto3.client(
            "s3",
            endpoint_url=config.endpoint_url,
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=config.secret_access_key.get_secret_value(),
            region_name=config.region,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"mode": config.retry_mode, "max_attempts": 5},
                max_pool_connections=32,
                s3={"addressing_style": "path"},
            ),
        )
        return cls(client, bucket)

    @classmethod
    def from_settings(cls, settings: Settings) -> ObjectStore:
        return cls.from_config(S3Config.from_settings(settings), settings.bucket)

    def with_bucket(self, bucket: str) -> ObjectStore:
        """The same client and endpoint, another bucket."""
        other = copy.copy(self)
        other.bucket = bucket
        return other

    @contextlib.contextmanager
    def _errors(self, action: str, key: str = "") -> Iterator[None]:
        where = f"s3://{self.bucket}/{key}" if key else f"bucket {self.bucket!r}"
        try:
            yield
        except EndpointConnectionError as exc:
            raise TransientStorageError(f"S3 endpoint {self.endpoint} unreachable ({action} {where}): {exc}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            message = f"S3 {action} {where} at {self.endpoint} failed: {code}"
            if code in _NOT_FOUND:
                raise ObjectNotFound(message) from exc
            if code in _PRECONDITION_FAILED:
                raise PreconditionFailed(message) from exc
            if code in _REFUSED:
                raise StorageError(message) from exc
            raise TransientStorageError(message) from exc
        except BotoCoreError as exc:
            raise TransientStorageError(f"S3 {action} {where} at {self.endpoint} failed: {exc}") from exc

    def bucket_exists(self) -> bool:
        try:
            with self._errors("head bucket"):
                self.client.head_bucket(Bucket=self.bucket)
        except ObjectNotFound:
            return False
        return True

    def ensure_bucket(self) -> None:
        if not self.bucket_exists():
            with self._errors("create bucket"):
                self.client.create_bucket(Bucket=self.bucket)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> None:
        with self._errors("put", key):
            if len(data) > MULTIPART_THRESHOLD:  # boto3's transfer manager uploads the parts in parallel
                extra = {"ContentType": content_type, "Metadata": metadata or {}}
                self.client.upload_fileobj(io.BytesIO(data), self.bucket, key, ExtraArgs=extra, Config=_TRANSFER)
            else:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, Metadata=metadata or {}
                )

    def put_new(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        """Create `key` only if it does not exist yet (If-None-Match: *); False when another writer won."""
        try:
            with self._errors("put", key):
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, IfNoneMatch="*"
                )
        except PreconditionFailed:
            return False
        return True

    def replace(self, key: str, data: bytes, etag: str, content_type: str = "application/octet-stream") -> bool:
        """Overwrite `key` only if it still has `etag` (If-Match); False when it changed meanwhile."""
        try:
            with self._errors("put", key):
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, IfMatch=f'"{etag}"'
                )
        except PreconditionFailed:
            return False
        return True

    def get_with_etag(self, key: str) -> tuple[bytes, str] | None:
        try:
            with self._errors("get", key):
                response = self.client.get_object(Bucket=self.bucket, Key=key)
                return response["Body"].read(), response["ETag"].strip('"')
        except ObjectNotFound:
            return None

    def put_if_changed(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        """Write unless the object already holds exactly these bytes; return whether it wrote."""
        if self.etag(key) == _md5(data):
            return False
        self.put_bytes(key, data, content_type)
        return True

    def put_json(self, key: str, value: Any) -> bool:
        data = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2).encode() + b"\n"
        return self.put_if_changed(key, data, "application/json")

    def etag(self, key: str) -> str | None:
        try:
            with self._errors("head", key):
                head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ObjectNotFound:
            return None
        return head["ETag"].strip('"')

    def get_bytes(self, key: str) -> bytes:
        with self._errors("get", key):
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def get_object(self, key: str) -> StoredObject:
        """Body, content type and user metadata of one object."""
        with self._errors("get", key):
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return StoredObject(response["Body"].read(), response.get("ContentType", ""), response.get("Metadata", {}))

    def read_ahead(self, keys: Iterable[str], ahead: int = 8) -> Iterator[StoredObject]:
        """`get_object` of each key in order, with up to `ahead` reads in flight while the caller works on
        the current object: waiting on the store overlaps with parsing. Memory: `ahead` objects at most."""
        remaining = iter(keys)
        with ThreadPoolExecutor(max_workers=ahead) as pool:
            pending: deque[Future[StoredObject]] = deque(
                pool.submit(self.get_object, key) for key in itertools.islice(remaining, ahead)
            )
            while pending:
                current = pending.popleft().result()
                following = next(remaining, None)
                if following is not None:
                    pending.append(pool.submit(self.get_object, following))
                yield current

    def get_bytes_or_none(self, key: str) -> bytes | None:
        try:
            return self.get_bytes(key)
        except ObjectNotFound:
            return None

    def list_objects(self, prefix: str) -> Iterator[tuple[str, int]]:
        """Yield (key, size) of every object under `prefix` in key order, page by page."""
        for obj in self._listing(prefix):
            yield obj["Key"], obj.get("Size", 0)

    def list_etags(self, prefix: str) -> Iterator[tuple[str, str]]:
        """Yield (key, ETag) of every object under `prefix`: a single-part object's ETag is its bytes' MD5."""
        for obj in self._listing(prefix):
            yield obj["Key"], obj.get("ETag", "").strip('"')

    def _listing(self, prefix: str) -> Iterator[ObjectTypeDef]:
        paginator = self.client.get_paginator("list_objects_v2")
        with self._errors("list", prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                yield from page.get("Contents", [])

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Yield every key under `prefix` in key order, page by page."""
        for key, _ in self.list_objects(prefix):
            yield key

    def move(self, source: str, destination: str) -> None:
        """Copy then delete: S3 has no rename."""
        with self._errors("move", source):
            self.client.copy_object(
                Bucket=self.bucket, Key=destination, CopySource={"Bucket": self.bucket, "Key": source}
            )
            self.client.delete_object(Bucket=self.bucket, Key=source)

    def delete_many(self, keys: list[str]) -> None:
        """Delete in batches of 1,000 (the S3 limit per request)."""
        for start in range(0, len(keys), 1000):
            batch: list[ObjectIdentifierTypeDef] = [{"Key": k} for k in keys[start : start + 1000]]
            with self._errors("delete", keys[start]):
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def delete(self, key: str) -> None:
        with self._errors("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def presigned_url(self, key: str, expires_in: int = 7 * 24 * 3600) -> str:
        with self._errors("presign", key):
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
