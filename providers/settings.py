"""What vendors' settings are made of: closed, frozen sections of config.toml, and the value types they share."""

import ipaddress
from typing import Annotated, ClassVar

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, TypeAdapter, ValidationError

from providers.errors import ProviderMisconfigured

_HTTP_URL = TypeAdapter(AnyHttpUrl)


class Section(BaseModel):
    """A section of config.toml: an unknown key is refused, and nothing changes a section once it is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class VendorSettings(Section):
    """One vendor's section, handed as it is to the vendor's adapter. What a deployment may leave unset (credentials a
    sandbox goes without) is optional here; the adapter requires it when it is built."""

    # Where the section sits in config.toml ("payments.mpesa"): errors name the keys to set by it.
    section: ClassVar[str]

    def require(self, *names: str, vendor: str) -> None:
        """Refuse to build the adapter while any of `names` is unset, naming every such key."""
        unset = [f"{self.section}.{name}" for name in names if getattr(self, name) is None]
        if unset:
            raise ProviderMisconfigured(f"missing settings: {', '.join(unset)}", vendor=vendor)


def _is_http_url(value: str) -> str:
    try:
        _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError("not an http(s) URL") from None
    return value


# An http(s) URL, kept as written: pydantic's URL type would add a slash to a bare host, and to every URL built on it.
HttpUrl = Annotated[str, AfterValidator(_is_http_url)]


def _is_network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an address or CIDR like 196.201.214.0/24") from None
    return value


# An IP address or a CIDR block of them.
Network = Annotated[str, AfterValidator(_is_network)]
