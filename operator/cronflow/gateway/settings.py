"""The gateway's settings, from the environment (CRONFLOW_API_*) and the command line, validated."""

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cronflow.api.models import HttpUrl, ObjectName

DNS_LABEL_REGEX = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
Namespace = Annotated[str, Field(pattern=DNS_LABEL_REGEX, max_length=63)]


class GatewaySettings(BaseSettings):
    """Where the gateway listens, its default namespace, what the jobs it creates call."""

    model_config = SettingsConfigDict(env_prefix="CRONFLOW_API_")

    namespace: Namespace = Field("default", description="namespace of the jobs unless a request names another")
    host: str = Field("0.0.0.0", description="address to listen on")
    port: int = Field(8000, ge=1, le=65535)
    flow_endpoint: HttpUrl | None = Field(
        None, description="the flow service's run-binary URL that every created job calls; unset: create_job refused"
    )
    spool_claim: ObjectName | None = Field(
        None, description="PersistentVolumeClaim of automatic mode (spooled_mode); unset: spooled_mode refused"
    )
    max_body_bytes: int = Field(1 << 20, ge=1024, le=16 << 20, description="larger request bodies get 413")
    log_format: Literal["json", "text"] = "text"
    dashboard_namespaces: Annotated[list[Namespace], NoDecode] = Field(
        default_factory=list, description="namespaces the dashboard's picker offers besides the default one "
        "(comma-separated), to the viewers who may list ScheduledJobs there"
    )

    @field_validator("dashboard_namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: object) -> object:
        if isinstance(value, str):
            return [ns.strip() for ns in value.split(",") if ns.strip()]
        return value
