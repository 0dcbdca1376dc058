"""SOAP login (partner and enterprise) over HTTPS, raw and through simple-salesforce."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from emulator_http import API, RestClient, https_session
from simple_salesforce import Salesforce, SalesforceAuthenticationFailed

from crmbridge.emulator.server import EmulatorServer

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = EmulatorServer(tmp_path_factory.mktemp("soap-org"), port=0)
    server.start()
    yield server.info
    server.stop()


def login_envelope(username: str, password: str, namespace: str = PARTNER) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="{ENV}" '
        f'xmlns:urn="{namespace}"><soapenv:Body><urn:login><urn:username>{username}</urn:username>'
        f"<urn:password>{password}</urn:password></urn:login></soapenv:Body></soapenv:Envelope>"
    )


def post(org: dict[str, Any], body: str, path: str = "/services/Soap/u/59.0") -> Any:
    return https_session(org).post(
        org["instance_url"] + path,
        data=body.encode(),
        headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
        timeout=30,
    )


def test_login_answers_the_documented_login_response(org: dict[str, Any]) -> None:
    response = post(org, login_envelope(org["username"], org["password"] + org["security_token"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    result = root.find(f"{{{ENV}}}Body/{{{PARTNER}}}loginResponse/{{{PARTNER}}}result")
    assert result is not None
    values = {child.tag.split("}")[1]: child for child in result}
    assert set(values) >= {
        "metadataServerUrl",
        "passwordExpired",
        "sandbox",
        "serverUrl",
        "sessionId",
        "userId",
        "userInfo",
    }
    assert values["passwordExpired"].text == "false"
    assert values["sandbox"].text == "false"
    assert (
        values["serverUrl"].text
        == f"{org['instance_url']}/services/Soap/u/59.0/{org['org_id'][:15]}"
    )
    assert values["userId"].text == org["user_id"]
    info = {child.tag.split("}")[1]: child.text for child in values["userInfo"]}
    assert info["organizationId"] == org["org_id"]
    assert info["userName"] == org["username"]
    assert {"userEmail", "organizationName", "userFullName"} <= set(info)
    session_id = values["sessionId"].text
    assert RestClient(org, session_id).get(f"{API}/limits").status_code == 200


def test_enterprise_endpoint_answers_in_its_namespace(org: dict[str, Any]) -> None:
    namespace = "urn:enterprise.soap.sforce.com"
    response = post(
        org,
        login_envelope(org["username"], org["password"] + org["security_token"], namespace),
        "/services/Soap/c/59.0",
    )
    assert response.status_code == 200
    assert (
        ElementTree.fromstring(response.content).find(f"{{{ENV}}}Body/{{{namespace}}}loginResponse")
        is not None
    )


def test_bad_login_is_the_documented_invalid_login_fault(org: dict[str, Any]) -> None:
    response = post(org, login_envelope(org["username"], org["password"]))
    assert response.status_code == 500
    root = ElementTree.fromstring(response.content)
    fault = root.find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "sf:INVALID_LOGIN"
    assert fault.findtext("faultstring") == (
        "INVALID_LOGIN: Invalid username, password, security token; or user locked out."
    )
    detail = {
        el.tag.split("}")[1]: el.text for el in fault.iter() if el.tag.startswith("{urn:fault")
    }
    assert detail["exceptionCode"] == "INVALID_LOGIN"


@pytest.mark.parametrize(
    "body",
    [
        "not xml at all",
        "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'boom'>]><x>&a;</x>",
        f'<soapenv:Envelope xmlns:soapenv="{ENV}"><soapenv:Body/></soapenv:Envelope>',
        f'<soapenv:Envelope xmlns:soapenv="{ENV}"><soapenv:Body><logout xmlns="{PARTNER}"/>'
        "</soapenv:Body></soapenv:Envelope>",
    ],
)
def test_malformed_soap_gets_a_client_fault_and_issues_no_session(
    org: dict[str, Any], body: str
) -> None:
    response = post(org, body)
    assert response.status_code == 500
    fault = ElementTree.fromstring(response.content).find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "soapenv:Client"
    assert b"sessionId" not in response.content


def test_simple_salesforce_logs_in_with_username_password_and_token(org: dict[str, Any]) -> None:
    sf = Salesforce(
        username=org["username"],
        password=org["password"],
        security_token=org["security_token"],
        domain=org["simple_salesforce_domain"],
        session=https_session(org),
        version="59.0",
    )
    assert sf.sf_instance == org["instance_url"].removeprefix("https://")
    assert sf.query("SELECT Id FROM User")["totalSize"] >= 1
    with pytest.raises(SalesforceAuthenticationFailed) as failure:
        Salesforce(
            username=org["username"],
            password="wrong",
            security_token="x",
            domain=org["simple_salesforce_domain"],
            session=https_session(org),
        )
    assert failure.value.code == "INVALID_LOGIN"
