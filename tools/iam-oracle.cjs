#!/usr/bin/env node
// An SCP evaluator nobody in this project wrote, for the differential test of docustack/simulator.py:
// @cloud-copilot/iam-simulate (npm; package-lock.json pins it), run on a batch of requests in one process.
//
// Usage: node tools/iam-oracle.cjs < batch.json > decisions.json
//
// Input (JSON on stdin):
//   {"policySets": {"<key>": [{"orgIdentifier": "r-root", "policies": [{"name": "...", "policy": {...}}]}, ...]},
//    "requests": [{"id": "...", "action": "s3:PutObject", "principal": "arn:aws:iam::...:role/x",
//                  "resource": "arn:aws:s3:::b/k", "resourceAccount": "111122223333",
//                  "context": {"aws:RequestedRegion": "us-east-1", ...}, "policySet": "<key>"}, ...]}
// A policy set is the SCPs of one account, one entry per level from the root down to the account, in the order
// iam-simulate wants them (root first, account last); an empty list means no SCP applies.
//
// Output (JSON on stdout): [{"id", "decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "Mixed" |
// "Error", "scpsEvaluated", "deniedBy": [{"level", "policy", "sid"}], "ignoredContextKeys": [...], "error"}], one per
// request, in order. The decision is iam-simulate's SCP analysis alone (scpAnalysis.result): the principal gets an
// identity policy that allows everything, so no other policy type decides. "Mixed" means iam-simulate expanded a
// wildcard resource into several resource types and the SCPs decided them differently.
// Exit 0 when every request was evaluated (errors included, reported per request); 2 on unusable input.
"use strict";
const { runSimulation } = require("@cloud-copilot/iam-simulate");

const ALLOW_EVERYTHING = {
  Version: "2012-10-17",
  Statement: [{ Sid: "AllowEverything", Effect: "Allow", Action: "*", Resource: "*" }],
};

function deniedBy(scpAnalysis) {
  const found = [];
  for (const level of scpAnalysis.ouAnalysis || []) {
    for (const statement of level.denyStatements || []) {
      found.push({ level: level.orgIdentifier, policy: statement.policyId, sid: statement.statement.sid() || "" });
    }
  }
  return found;
}

async function evaluate(request, policySets) {
  const simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.resourceAccount },
      contextVariables: request.context || {},
    },
    identityPolicies: [{ name: "AllowEverything", policy: ALLOW_EVERYTHING }],
    serviceControlPolicies: policySets[request.policySet],
    resourceControlPolicies: [],
  };
  const response = await runSimulation(simulation, { simulationMode: "Strict" });
  if (response.resultType === "error") {
    return { id: request.id, decision: "Error", error: JSON.stringify(response.errors) };
  }
  const results = response.resultType === "single" ? [response.result] : response.results;
  if (results.length === 0) {
    return { id: request.id, decision: "Error", error: "iam-simulate ran no simulation for this resource" };
  }
  // Some requests are decided before any policy is read (sts:GetCallerIdentity is always allowed): then there is
  // no SCP analysis, and the overall result is the answer.
  const decisions = new Set(results.map((r) => (r.analysis.scpAnalysis || r.analysis).result));
  const first = results[0];
  return {
    id: request.id,
    decision: decisions.size === 1 ? [...decisions][0] : "Mixed",
    scpsEvaluated: results.every((r) => r.analysis.scpAnalysis !== undefined),
    deniedBy: first.analysis.scpAnalysis ? deniedBy(first.analysis.scpAnalysis) : [],
    ignoredContextKeys: first.ignoredContextKeys || [],
  };
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  let batch;
  try {
    batch = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    console.error(`iam-oracle: stdin is not JSON: ${error.message}`);
    return 2;
  }
  const { policySets, requests } = batch;
  if (typeof policySets !== "object" || !Array.isArray(requests)) {
    console.error('iam-oracle: expected {"policySets": {...}, "requests": [...]}');
    return 2;
  }
  const out = [];
  for (const request of requests) {
    if (!(request.policySet in policySets)) {
      console.error(`iam-oracle: request ${request.id} names no known policySet ${request.policySet}`);
      return 2;
    }
    try {
      out.push(await evaluate(request, policySets));
    } catch (error) {
      out.push({ id: request.id, decision: "Error", error: String(error && error.stack ? error.stack : error) });
    }
  }
  process.stdout.write(JSON.stringify(out));
  return 0;
}

// exitCode, not exit(): exit() would cut off a large answer still being written to a pipe.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 2;
  },
);
