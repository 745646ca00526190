#!/usr/bin/env node
// An SCP and RCP evaluator nobody in this project wrote, for the differential test of docustack/simulator.py:
// @cloud-copilot/iam-simulate (npm; package-lock.json pins it), run on a batch of requests in one process.
//
// Usage: node tools/iam-oracle.cjs < batch.json > decisions.json
//
// Input (JSON on stdin):
//   {"policySets": {"<key>": [{"orgIdentifier": "r-root", "policies": [{"name": "...", "policy": {...}}]}, ...]},
//    "requests": [{"id": "...", "action": "s3:PutObject", "principal": "arn:aws:iam::...:role/x",
//                  "resource": "arn:aws:s3:::b/k", "resourceAccount": "111122223333",
//                  "context": {"aws:RequestedRegion": "us-east-1", ...}, "policySet": "<key>",
//                  "rcpSet": "<key>"}, ...]}
// A policy set is the SCPs (policySet: the caller's account) or the RCPs (rcpSet: the resource's account) of one
// account, one entry per level from the root down to the account, in the order iam-simulate wants them (root
// first, account last); an empty list, or no rcpSet, means no policy of that kind applies.
//
// Output (JSON on stdout): [{"id", "decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "Mixed" |
// "Error", "scpsEvaluated", "deniedBy": [{"level", "policy", "sid", "type"}], "ignoredContextKeys": [...], "error"}],
// one per request, in order. The decision is iam-simulate's SCP and RCP analyses alone (scpAnalysis.result and
// rcpAnalysis.result: denied when either denies): the principal gets an identity policy that allows everything,
// so no other policy type decides. "Mixed" means iam-simulate expanded a wildcard resource into several resource
// types and the policies decided them differently.
// Exit 0 when every request was evaluated (errors included, reported per request); 2 on unusable input.
"use strict";
const { runSimulation } = require("@cloud-copilot/iam-simulate");

const ALLOW_EVERYTHING = {
  Version: "2012-10-17",
  Statement: [{ Sid: "AllowEverything", Effect: "Allow", Action: "*", Resource: "*" }],
};

function deniedBy(analysis, type) {
  const found = [];
  for (const level of (analysis && analysis.ouAnalysis) || []) {
    for (const statement of level.denyStatements || []) {
      found.push({ level: level.orgIdentifier, policy: statement.policyId, sid: statement.statement.sid() || "", type });
    }
  }
  return found;
}

// Denied when either kind of policy denies: an explicit deny first, then a level without an allow. An empty set
// of SCPs or RCPs (none applies) allows. Some requests are decided before any policy is read
// (sts:GetCallerIdentity is always allowed): then there is no analysis, and the overall result is the answer.
function combined(analysis) {
  if (!analysis.scpAnalysis) return analysis.result;
  const kinds = [analysis.scpAnalysis.result, analysis.rcpAnalysis ? analysis.rcpAnalysis.result : "Allowed"];
  if (kinds.includes("ExplicitlyDenied")) return "ExplicitlyDenied";
  if (kinds.includes("ImplicitlyDenied")) return "ImplicitlyDenied";
  return "Allowed";
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
    resourceControlPolicies: request.rcpSet ? policySets[request.rcpSet] : [],
  };
  const response = await runSimulation(simulation, { simulationMode: "Strict" });
  if (response.resultType === "error") {
    return { id: request.id, decision: "Error", error: JSON.stringify(response.errors) };
  }
  const results = response.resultType === "single" ? [response.result] : response.results;
  if (results.length === 0) {
    return { id: request.id, decision: "Error", error: "iam-simulate ran no simulation for this resource" };
  }
  const decisions = new Set(results.map((r) => combined(r.analysis)));
  const first = results[0];
  return {
    id: request.id,
    decision: decisions.size === 1 ? [...decisions][0] : "Mixed",
    scpsEvaluated: results.every((r) => r.analysis.scpAnalysis !== undefined),
    deniedBy: [
      ...deniedBy(first.analysis.scpAnalysis, "SERVICE_CONTROL_POLICY"),
      ...deniedBy(first.analysis.rcpAnalysis, "RESOURCE_CONTROL_POLICY"),
    ],
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
    if (!(request.policySet in policySets) || (request.rcpSet && !(request.rcpSet in policySets))) {
      console.error(`iam-oracle: request ${request.id} names an unknown policySet or rcpSet`);
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
