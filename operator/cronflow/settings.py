"""Operator settings from the environment (CRONFLOW_*) and the command line, validated."""

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class OperatorSettings(BaseSettings):
    """What the operator watches, which job image it runs, and how it logs."""

    model_config = SettingsConfigDict(env_prefix="CRONFLOW_")

    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="namespaces to watch; empty means the whole cluster"
    )
    job_image: str = Field("cronflow-job:dev", min_length=1, description="image of the job runner")
    log_format: Literal["json", "text"] = "text"
    verbose: bool = False
    liveness_port: int = Field(8080, ge=0, le=65535, description="0 disables /healthz")
    readiness_port: int = Field(
        0, ge=0, le=65535, description="port of /readyz (the controller runs, the API server answers); 0 for none"
    )
    lease_namespace: str = Field(
        "", description="namespace of the leader-election Lease; empty: POD_NAMESPACE (the operator's own, in a "
        "pod), else the first watched namespace in sorted order, else default (when watching the whole cluster)"
    )
    metrics_port: int = Field(9090, ge=0, le=65535, description="0 disables /metrics")
    smtp_host: str = Field("", description="SMTP server for email notifications; empty disables email")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = Field("", repr=False, description="from a Secret via the environment, never logged")
    smtp_from: str = "cronflow@localhost"
    smtp_starttls: bool = Field(True, description="STARTTLS when smtp_tls is auto and the port is not 465")
    smtp_tls: Literal["auto", "starttls", "implicit", "none"] = Field(
        "auto",
        description="starttls, implicit (TLS from the first byte, SMTPS) or none; auto: implicit on port 465, "
        "else starttls unless smtp_starttls is false. The certificate and host name are always verified; "
        "with none, a username is refused (the password is never sent without TLS)",
    )
    smtp_ca_file: str = Field(
        "", description="PEM file of the CAs that verify the SMTP server's certificate; empty: the system CAs"
    )

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: object) -> object:
        if isinstance(value, str):
            return [ns.strip() for ns in value.split(",") if ns.strip()]
        return value
