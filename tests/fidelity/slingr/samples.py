"""The seed's (SD-API) request/response samples, transcribed; a few typos of the docs fixed.

The later samples are the seed's JSON text itself, parsed once: dicts keep the seed's key
order, so `orjson.dumps(SAMPLE)` is the byte-exact answer a replay must produce. Where the
seed's JSON repeats a key (the history samples' nested `"id"`), the parser keeps one, the way
any JSON client reads that answer."""

from __future__ import annotations

import json
from typing import Any


def seed_json(text: str) -> Any:
    return json.loads(text)

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

# --- transcribed from the seed's JSON text ---------------------------------------------------

# POST /auth/login
LOGIN_ANSWER = seed_json("""\
{
"app": "appname",
"adminUserEmail": null,
"ip": "::ffff:10.240.0.38",
"userEmail": "user@test.com",
"userName": "User Test",
"userId": "57fce0c3e4b0ce322b0c06b2",
"token": "eLJjYSjLUPLlIEe8lfJUOmzsVNvSRpOv"
}
""")

# POST /auth/login with emailImpersonatedUser
IMPERSONATION_ANSWER = seed_json("""\
{
"app": "appname",
"adminUserEmail": "manager@test.com",
"ip": "::ffff:10.240.0.39",
"userEmail": "employee@test.com",
"userName": "Employee Test",
"userId": "57fe52ade4b0ce322b0cea32",
"token": "NE8lUuA2Yi9K6gL9EaQaTLIQLvYIhIyv"
}
""")

# DELETE /data/companies/588775f63b063a0007604f4c?_async=true
DELETE_ASYNC_REF = seed_json(
    '{"jobLink": "/api/status/jobs/5887b6f23b063a0007604fa8", "jobId": "5887b6f23b063a0007604fa8"}')

# DELETE /data/companies/588775f63b063a0007604f4c,588775f63b063a0007604f8b?_async=true
DELETE_MANY_ASYNC_REF = seed_json(
    '{"jobLink": "/api/status/jobs/5887b6f23b063a0007604fa8", "jobId": "5887b6f23b063a0007604fa8"}')

# DELETE /data/companies?_async=true&type=a
DELETE_QUERY_ASYNC_REF = seed_json(
    '{"jobLink": "/api/status/jobs/5887b6f23b063a0007604fa8", "jobId": "5887b6f23b063a0007604fa8"}')

# PUT /data/companies/57fd2d65e4b0ce322b0c8665/logSomething?_async=true
ACTION_ASYNC_REF = seed_json(
    '{"jobLink": "/api/status/jobs/588f3e65b45fc9000bc1baa7", "jobId": "588f3e65b45fc9000bc1baa7"}')

# PUT /data/companies/{BZ},{BP}/logSomething?_async=true
ACTION_MANY_ASYNC_REF = seed_json(
    '{"jobLink": "/api/status/jobs/588f45e2b45fc9000bc1bd1f", "jobId": "588f45e2b45fc9000bc1bd1f"}')

# PUT /data/companies/logSomething?_async=true&id={BZ},{BP}
ACTION_QUERY_ASYNC_REF = seed_json(
    '{"jobLink": "/api/status/jobs/588f45e2b45fc9000bc1bd1f", "jobId": "588f45e2b45fc9000bc1bd1f"}')

# POST /data/companies/import
IMPORT_REF = seed_json(
    '{"jobLink": "/api/status/jobs/588f3e65b45fc9000bc1baa7", "jobId": "588f3e65b45fc9000bc1baa7"}')

# PUT /data/companies/export?type=b&_size=50
EXPORT_REF = seed_json(
    '{"jobLink": "/api/status/jobs/588f3e65b45fc9000bc1baa7", "jobId": "588f3e65b45fc9000bc1baa7"}')

# PUT /data/companies/export?type=b&_size=50&_fields=name,address.state,mainContact.email
EXPORT_FIELDS_REF = seed_json(
    '{"jobLink": "/api/status/jobs/588f3e65b45fc9000bc1baa8", "jobId": "588f3e65b45fc9000bc1baa8"}')

# GET /data/companies/588f8b99b45fc9000bc1bfc4/history
RECORD_HISTORY = seed_json("""\
{
"total": 2,
"offset": "588f8b99b45fc9000bc1bfc5",
"items": [
{
"id": "588f8ba7b45fc9000bc1bfce",
"entityId": "57fce228e4b0f6600fdfb836",
"entityName": "companies",
"entityVersion": 57,
"recordId": "588f8b99b45fc9000bc1bfc4",
"recordName": "test1",
"user": "dgaviola@slingr.io",
"timestamp": 1485802407010,
"ip": "::ffff:10.240.0.15",
"eventType": "USER_RECORD_CHANGED",
"eventCategory": "USER",
"contextPath": "entities.companies.update",
"recordDeleted": null,
"deletionDate": null,
"oldRecord": {
"type": {
"json": "a",
"text": "{type:a}"
},
"addresses": {
"json": null,
"text": "{}"
}
},
"newRecord": {
"type": {
"json": "b",
"text": "{type:b}"
},
"addresses": {
"json": null,
"text": "{}"
}
}
},
{
"id": "588f8b99b45fc9000bc1bfc5",
"entityId": "57fce228e4b0f6600fdfb836",
"entityName": "companies",
"entityVersion": 57,
"recordId": "588f8b99b45fc9000bc1bfc4",
"recordName": "test1",
"user": "dgaviola@slingr.io",
"timestamp": 1485802393836,
"ip": "::ffff:10.240.0.11",
"eventType": "USER_RECORD_CREATED",
"eventCategory": "USER",
"contextPath": "entities.companies.create",
"recordDeleted": null,
"deletionDate": null,
"oldRecord": {},
"newRecord": {
"name": "test1",
"state": "active",
"type": "a",
"numberOfEmployees": null,
"isCustomer": false,
"contactInformation": {
"phoneNumber": null,
"email": null,
"id": "588f8b99b45fc9000bc1bfc3",
"nestedFieldLabel": "Contact Information",
"id": "588f8b99b45fc9000bc1bfc3",
"label": "Contact Information"
},
"homepage": null,
"taxId": null,
"rating": null,
"notes": null,
"lastMeeting": null,
"lastUpdate": 1485802380000
}
}
]
}
""")

# GET /data/companies/history?_size=2
ENTITY_HISTORY = seed_json("""\
{
"total": 3,
"offset": "588f8ba7b45fc9000bc1bfce",
"items": [
{
"id": "588f9757b45fc9000bc1bfe1",
"entityId": "57fce228e4b0f6600fdfb836",
"entityName": "companies",
"entityVersion": 57,
"recordId": "588f9757b45fc9000bc1bfe0",
"recordName": "test2",
"user": "dgaviola@slingr.io",
"timestamp": 1485805399966,
"ip": "::ffff:10.240.0.11",
"eventType": "USER_RECORD_CREATED",
"eventCategory": "USER",
"contextPath": "entities.companies.create",
"recordDeleted": null,
"deletionDate": null,
"oldRecord": {},
"newRecord": {
"name": "test2",
"state": "active",
"type": "c",
"color": "#e1e1e1",
"numberOfEmployees": null,
"isCustomer": false,
"contactInformation": {
"phoneNumber": null,
"email": null,
"id": "588f9757b45fc9000bc1bfdf",
"nestedFieldLabel": "Contact Information",
"id": "588f9757b45fc9000bc1bfdf",
"label": "Contact Information"
},
"homepage": null,
"taxId": null,
"rating": null,
"notes": null,
"lastMeeting": null,
"lastUpdate": 1485805380000
}
},
{
"id": "588f8ba7b45fc9000bc1bfce",
"entityId": "57fce228e4b0f6600fdfb836",
"entityName": "companies",
"entityVersion": 57,
"recordId": "588f8b99b45fc9000bc1bfc4",
"recordName": "test1",
"user": "dgaviola@slingr.io",
"timestamp": 1485802407010,
"ip": "::ffff:10.240.0.15",
"eventType": "USER_RECORD_CHANGED",
"eventCategory": "USER",
"contextPath": "entities.companies.update",
"recordDeleted": null,
"deletionDate": null,
"oldRecord": {
"type": {
"json": "a",
"text": "{type:a}"
},
"addresses": {
"json": null,
"text": "{}"
}
},
"newRecord": {
"type": {
"json": "b",
"text": "{type:b}"
},
"addresses": {
"json": null,
"text": "{}"
}
}
}
]
}
""")

# POST /files
UPLOADED = seed_json(
    '{"fileId": "588f9f1eb45fc9000bc1c010", "fileLink": "/files/588f9f1eb45fc9000bc1c010"}')

# PUT /files/588f9f1eb45fc9000bc1c010/share?ttl=60000
SHARED = seed_json("""\
{
"sharedFileId": "588fa383b45fc9000bc1c014",
"sharedFileLink": "/files/shared/588fa383b45fc9000bc1c014"
}
""")

# GET /status/logs?period=yesterday&userEmail=test@slingr.io&_size=2
LOGS_FOUND = seed_json("""\
{
"items": [
{
"id": "58907c10b45fc9000bc1c020",
"type": "APP",
"subType": "LOGIN",
"level": "INFO",
"message": "POST /login",
"userEmail": "test@slingr.io",
"adminUserEmail": null,
"timestamp": 1485863952895,
"ip": null
},
{
"id": "58907c19b45fc9000bc1c021",
"type": "APP",
"subType": null,
"level": "INFO",
"message": "GET /api/users/current",
"userEmail": "test@slingr.io",
"adminUserEmail": null,
"timestamp": 1485863961326,
"ip": "::ffff:10.240.0.16"
}
],
"total": 151
}
""")

# POST /status/logs
LOG_POSTED = seed_json("""\
{
"id": "589085bdb45fc9000bc1c030",
"type": "EXTERNAL",
"subType": null,
"level": "INFO",
"message": "This is a test log",
"userEmail": "test@slingr.io",
"adminUserEmail": null,
"timestamp": 1485866429630,
"ip": "::ffff:10.240.0.15",
"additionalInfo": {
"test": "Additional info property"
}
}
""")

# GET /status/jobs/588a02c13b063a0007605032
JOB = seed_json("""\
{
"id": "588a02c13b063a0007605032",
"label": "Execute action countEmployees from entity companies",
"type": "EXECUTE_ACTION",
"runBy": {
"id": "57fce0c3e4b0ce322b0c06b2",
"fullName": "Diego Gaviola"
},
"parentJob": null,
"rootJob": null,
"createDate": 1485439681643,
"startDate": 1485439681652,
"endDate": 1485439681807,
"status": "FINISHED",
"hasErrors": false,
"progress": 100,
"recordsCount": 0,
"recordsProcessed": 0,
"childrenJobsCount": 0,
"childrenJobsProcessed": 0,
"stoppable": true,
"lowPriority": false
}
""")

# GET /status/job/5890d8deb45fc9000bc1c2d3/logs
JOB_LOGS = seed_json("""\
{
"total": 3,
"items": [
{
"timestamp": 1485887710544,
"level": "INFO",
"message": "Starting processing"
},
{
"timestamp": 1485887710546,
"level": "INFO",
"message": "Cleaning up"
},
{
"timestamp": 1485887710704,
"level": "INFO",
"message": "Process completed"
}
]
}
""")

# POST /data/companies/import: the CSV part of the multipart body
IMPORT_CSV = "name,type\ntest1,a\ntest2,b\ntest3,c\n"

# POST /status/logs: the request body
LOG_BODY = seed_json("""\
{
"level": "INFO",
"message": "This is a test log",
"additionalInfo": {
"test": "Additional info property"
}
}
""")

# GET /status/jobs?status=FINISHED&_size=3: the docs elide each job after its "id" ("...")
JOBS_FOUND_TOTAL = 50
JOBS_FOUND_OFFSET = "5890d8ddb45fc9000bc1c2cf"
JOBS_FOUND_IDS = ["5890d8deb45fc9000bc1c2d3", "5890d8deb45fc9000bc1c2d1",
                  "5890d8ddb45fc9000bc1c2cf"]
