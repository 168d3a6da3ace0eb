"""The seed's (SD-API) request/response samples, transcribed; a few typos of the docs fixed."""

from __future__ import annotations

from typing import Any

# GET /data/companies/57fd2d65e4b0ce322b0c8665 (fetches one company record)
BROWSEZOOM: dict[str, Any] = {
    "id": "57fd2d65e4b0ce322b0c8665",
    "version": 379,
    "label": "Browsezoom",
    "name": "Browsezoom",
    "state": "pending",
    "type": "a",
    "numberOfEmployees": 95,
    "isCustomer": False,
    "contactInformation": {
        "phoneNumber": "1-702-845-9380",
        "email": "jwoodsrq@spotify.com",
        "id": "58837fdd3b063a0007603547",
        "label": "Contact Information",
    },
    "addresses": [{
        "addressLine": "4 Magdeline Place",
        "zipCode": "89145",
        "city": "Las Vegas",
        "state": "NV",
        "id": "57fd45aee4b0ce322b0c86aa",
        "label": "NV - 89145",
    }],
    "homepage": "http://www.browsezoom.com",
    "taxId": "350-KWM",
    "rating": "2.8",
    "notes": "modified notes",
    "lastMeeting": 1429623180000,
    "lastUpdate": 1485012900000,
}

ENTITY = {"id": "57fce228e4b0f6600fdfb836", "name": "Companies"}

# The record as the delete-many / action samples show it.
BROWSEZOOM_381 = {**BROWSEZOOM, "version": 381, "lastUpdate": 1485292080000}
BLOGPAD_377: dict[str, Any] = {
    "id": "57fd2d65e4b0ce322b0c8565",
    "version": 377,
    "label": "Blogpad",
    "name": "Blogpad",
    "state": "pending",
    "type": "b",
    "numberOfEmployees": 534,
    "isCustomer": False,
    "contactInformation": {
        "id": "581224c8e4b0285870237cc5",
        "label": "Contact Information",
        "phoneNumber": "1-405-298-5885",
        "email": "molsonre@rakuten.co.jp",
    },
    "addresses": [{
        "id": "57fd45aee4b0ce322b0c86ac",
        "label": "OK - 73157",
        "addressLine": "4 Crownhardt Plaza",
        "zipCode": "73157",
        "city": "Oklahoma City",
        "state": "OK",
    }],
    "homepage": "http://www.blogpad.com",
    "taxId": "123-ABC",
    "rating": "3.3",
    "notes": "Aenean fermentum. Donec ut mauris eget massa tempor convallis. Nulla neque "
             "libero, convallis eget, eleifend luctus, ultricies eu, nibh.",
    "lastMeeting": 1422111300000,
    "lastUpdate": 1485292500000,
}

# POST /data/companies (creates a new company)
CREATE_BODY: dict[str, Any] = {
    "name": "Test 1",
    "state": "pending",
    "type": "a",
    "numberOfEmployees": 95,
    "isCustomer": False,
    "contactInformation": {"phoneNumber": "1-702-845-9380", "email": "jwoodsrq@spotify.com"},
    "addresses": [{"addressLine": "4 Magdeline Place", "zipCode": "89145",
                   "city": "Las Vegas", "state": "NV"}],
    "homepage": "http://www.browsezoom.com",
    "taxId": "350-KWM",
    "rating": "2.8",
    "notes": "test notes",
    "lastMeeting": 1429623180000,
}
CREATED: dict[str, Any] = {
    "id": "588775f63b063a0007604f4c",
    "version": 0,
    "label": "Test 1",
    "name": "Test 1",
    "state": "pending",
    "type": "a",
    "numberOfEmployees": 95,
    "isCustomer": False,
    "contactInformation": {
        "phoneNumber": "1-702-845-9380",
        "email": "jwoodsrq@spotify.com",
        "id": "588775f63b063a0007604f4a",
        "label": "Contact Information",
    },
    "addresses": [{
        "addressLine": "4 Magdeline Place",
        "zipCode": "89145",
        "city": "Las Vegas",
        "state": "NV",
        "id": "588775f63b063a0007604f4b",
        "label": "NV - 89145",
    }],
    "homepage": "http://www.browsezoom.com",
    "taxId": "350-KWM",
    "rating": "2.8",
    "notes": "test notes",
    "lastMeeting": 1429623180000,
    "lastUpdate": 1485272566096,
}

# PUT /data/companies/588775f63b063a0007604f4c (updates a few fields in a company record)
UPDATE_BODY = {"version": 1, "state": "active", "type": "b", "numberOfEmployees": 100}
UPDATED = {**CREATED, "version": 2, "state": "active", "type": "b", "numberOfEmployees": 100,
           "lastUpdate": 1485288240000}

# DELETE /data/companies/588775f63b063a0007604f4c (deletes one company)
DELETED = {**UPDATED, "version": 10}

# PUT /data/contacts/aggregate (counts the number of skills per company)
AGGREGATE_BODY = [{"project": "company,numberOfSkills"},
                  {"group": {"by": "company", "totalSkills": "sum(numberOfSkills)"}}]
AGGREGATED = {"total": 6, "items": [
    {"company": "Trudoo", "totalSkills": 1}, {"company": "Riffwire", "totalSkills": 3},
    {"company": "Snaptags", "totalSkills": 2}, {"company": "Edgeify", "totalSkills": 0},
    {"company": "Flipopia", "totalSkills": 3}, {"company": "Rooxo", "totalSkills": 4}]}

# GET /status/jobs/588a02c13b063a0007605032: the job object's keys
JOB_KEYS = {"id", "label", "type", "runBy", "parentJob", "rootJob", "createDate", "startDate",
            "endDate", "status", "hasErrors", "progress", "recordsCount", "recordsProcessed",
            "childrenJobsCount", "childrenJobsProcessed", "stoppable", "lowPriority"}
