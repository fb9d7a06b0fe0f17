// Generated from bpf/*.bt by scripts/catalog/compile.ts (npm run catalog, npm run build):
// the bundled scripts with their headers parsed and programs linted at build time.
// Do not edit; a unit test checks that it is current.
import type { CompiledScript } from "./compiled-script.js";

export const COMPILED_SCRIPTS: readonly CompiledScript[] = [
  {
    "header": {
      "name": "envoy-event-loop",
      "purpose": "Per Envoy thread (workers are wrk:worker_N), every event-loop wake-up - how long the thread ran before waiting again, how many events were ready, and its busy time.",
      "requires": [
        "tracepoint:syscalls:sys_enter_epoll_*wait",
        "tracepoint:syscalls:sys_exit_epoll_*wait"
      ],
      "maps": [
        {
          "name": "@loop_runnable_ns",
          "kind": "hist",
          "unit": "ns",
          "metric": "event_loop_runnable",
          "meaning": "time from epoll_wait returning to the same thread's next epoll_wait (the work done per wake-up)",
          "keys": [
            "thread"
          ]
        },
        {
          "name": "@loop_ready_events",
          "kind": "hist",
          "unit": "events",
          "metric": "event_loop_ready_events",
          "meaning": "events epoll_wait returned per wake-up (0 when it timed out)",
          "keys": [
            "thread"
          ]
        },
        {
          "name": "@loop_wakeups",
          "kind": "count",
          "unit": "count",
          "metric": "event_loop_wakeups",
          "meaning": "epoll_wait returns (wake-ups), including time-outs",
          "keys": [
            "thread"
          ]
        },
        {
          "name": "@loop_busy_ns",
          "kind": "sum",
          "unit": "ns",
          "metric": "event_loop_busy",
          "meaning": "total runnable time in the interval (divide by the interval for the thread's utilisation)",
          "keys": [
            "thread"
          ]
        }
      ],
      "minBpftrace": "0.17",
      "default": true
    },
    "source": "/* hookpoint\nname: envoy-event-loop\npurpose: Per Envoy thread (workers are wrk:worker_N), every event-loop wake-up - how long the thread ran before waiting again, how many events were ready, and its busy time.\nrequires:\n  - tracepoint:syscalls:sys_enter_epoll_*wait\n  - tracepoint:syscalls:sys_exit_epoll_*wait\nmaps:\n  - name: \"@loop_runnable_ns\"\n    kind: hist\n    unit: ns\n    metric: event_loop_runnable\n    keys: [thread]\n    meaning: time from epoll_wait returning to the same thread's next epoll_wait (the work done per wake-up)\n  - name: \"@loop_ready_events\"\n    kind: hist\n    unit: events\n    metric: event_loop_ready_events\n    keys: [thread]\n    meaning: events epoll_wait returned per wake-up (0 when it timed out)\n  - name: \"@loop_wakeups\"\n    kind: count\n    unit: count\n    metric: event_loop_wakeups\n    keys: [thread]\n    meaning: epoll_wait returns (wake-ups), including time-outs\n  - name: \"@loop_busy_ns\"\n    kind: sum\n    unit: ns\n    metric: event_loop_busy\n    keys: [thread]\n    meaning: total runnable time in the interval (divide by the interval for the thread's utilisation)\nminBpftrace: \"0.17\"\ndefault: true\n*/\n// epoll_*wait covers epoll_wait and epoll_pwait (arm64 has only the latter). The thread is\n// keyed by name (comm), so workers read as wrk:worker_0, wrk:worker_1, ...; a wake-up's\n// runnable time is counted when the thread goes back to waiting.\n\ntracepoint:syscalls:sys_exit_epoll_*wait /pid == {{PID}} && args->ret >= 0/\n{\n  @loop_wakeups[comm] = count();\n  @loop_ready_events[comm] = hist(args->ret);\n  @_woke[tid] = nsecs;\n}\n\ntracepoint:syscalls:sys_enter_epoll_*wait /pid == {{PID}} && @_woke[tid] != 0/\n{\n  $ran = nsecs - @_woke[tid];\n  @loop_runnable_ns[comm] = hist($ran);\n  @loop_busy_ns[comm] = sum($ran);\n  delete(@_woke[tid]);\n}\n\ninterval:s:{{INTERVAL}}\n{\n  print(@loop_runnable_ns);\n  print(@loop_ready_events);\n  print(@loop_wakeups);\n  print(@loop_busy_ns);\n}\n\nEND\n{\n  clear(@_woke);\n}\n",
    "bodyStart": 1138
  },
  {
    "header": {
      "name": "envoy-filter-chain",
      "purpose": "Modified Envoy - time spent in the HTTP filter chain, from hookpointFiltersStart(id) to hookpointFiltersEnd(id).",
      "requires": [
        "hookpointFiltersStart",
        "hookpointFiltersEnd"
      ],
      "maps": [
        {
          "name": "@filter_chain_ns",
          "kind": "hist",
          "unit": "ns",
          "metric": "filter_chain_duration",
          "meaning": "time from hookpointFiltersStart(id) to hookpointFiltersEnd(id) with the same id",
          "keys": []
        },
        {
          "name": "@filter_chain_unmatched_start",
          "kind": "count",
          "unit": "count",
          "metric": "filter_chain_unmatched_starts",
          "meaning": "starts whose id still had a pending start (that start's end never came; it is dropped)",
          "keys": []
        },
        {
          "name": "@filter_chain_unmatched_end",
          "kind": "count",
          "unit": "count",
          "metric": "filter_chain_unmatched_ends",
          "meaning": "ends with no pending start for their id (started before tracing began, or dropped)",
          "keys": []
        }
      ],
      "minBpftrace": "0.17",
      "default": false
    },
    "source": "/* hookpoint\nname: envoy-filter-chain\npurpose: Modified Envoy - time spent in the HTTP filter chain, from hookpointFiltersStart(id) to hookpointFiltersEnd(id).\nrequires:\n  - hookpointFiltersStart\n  - hookpointFiltersEnd\nmaps:\n  - name: \"@filter_chain_ns\"\n    kind: hist\n    unit: ns\n    metric: filter_chain_duration\n    meaning: time from hookpointFiltersStart(id) to hookpointFiltersEnd(id) with the same id\n  - name: \"@filter_chain_unmatched_start\"\n    kind: count\n    unit: count\n    metric: filter_chain_unmatched_starts\n    meaning: starts whose id still had a pending start (that start's end never came; it is dropped)\n  - name: \"@filter_chain_unmatched_end\"\n    kind: count\n    unit: count\n    metric: filter_chain_unmatched_ends\n    meaning: ends with no pending start for their id (started before tracing began, or dropped)\nminBpftrace: \"0.17\"\ndefault: false\n*/\n// The id (first argument) identifies the stream; keying pending starts by it keeps\n// interleaved streams on one worker apart.\n\nuprobe:{{BINARY}}:hookpointFiltersStart /pid == {{PID}}/\n{\n  if (@_start[arg0] != 0) {\n    @filter_chain_unmatched_start = count();\n  }\n  @_start[arg0] = nsecs;\n}\n\nuprobe:{{BINARY}}:hookpointFiltersEnd /pid == {{PID}}/\n{\n  $start = @_start[arg0];\n  if ($start != 0) {\n    @filter_chain_ns = hist(nsecs - $start);\n    delete(@_start[arg0]);\n  } else {\n    @filter_chain_unmatched_end = count();\n  }\n}\n\ninterval:s:{{INTERVAL}}\n{\n  print(@filter_chain_ns);\n  print(@filter_chain_unmatched_start);\n  print(@filter_chain_unmatched_end);\n}\n\nEND\n{\n  clear(@_start);\n}\n",
    "bodyStart": 871
  },
  {
    "header": {
      "name": "envoy-http-filters",
      "purpose": "Stock Envoy - time of each HTTP filter's decodeHeaders, decodeData, encodeHeaders and encodeData, per filter and callback (what Envoy's own per-filter timing request envoy#4547 asks for).",
      "requires": [
        "_ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb | _ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb | _ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb | _ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb"
      ],
      "maps": [
        {
          "name": "@filter_ns",
          "kind": "hist",
          "unit": "ns",
          "metric": "http_filter_duration",
          "meaning": "time from a filter callback's entry to its return (filter = its namespace below Envoy::Extensions::HttpFilters in snake case, e.g. ext_authz; method = decodeHeaders, decodeData, encodeHeaders or encodeData); a filter that stops iteration returns at once, its wait is not in here",
          "keys": [
            "filter",
            "method"
          ]
        }
      ],
      "minBpftrace": "0.17",
      "default": false
    },
    "source": "/* hookpoint\nname: envoy-http-filters\npurpose: Stock Envoy - time of each HTTP filter's decodeHeaders, decodeData, encodeHeaders and encodeData, per filter and callback (what Envoy's own per-filter timing request envoy#4547 asks for).\nrequires:\n  - _ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb | _ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb | _ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb | _ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb\nmaps:\n  - name: \"@filter_ns\"\n    kind: hist\n    unit: ns\n    metric: http_filter_duration\n    keys: [filter, method]\n    meaning: time from a filter callback's entry to its return (filter = its namespace below Envoy::Extensions::HttpFilters in snake case, e.g. ext_authz; method = decodeHeaders, decodeData, encodeHeaders or encodeData); a filter that stops iteration returns at once, its wait is not in here\nminBpftrace: \"0.17\"\ndefault: false\n*/\n// Generated by the agent from the binary's own filter classes; bpf/envoy-http-filters.bt\n// is the template: the lines between \"hookpoint:each filter\" and \"hookpoint:end\" repeat\n// for each callback. The _ZThn thunks the encoder interface calls through jump to the\n// function itself, which is the one probed. A callback's entry is keyed by thread and\n// callback: one thread runs one filter callback at a time.\n\n// hookpoint:each filter\nuprobe:{{BINARY}}:{{SYMBOL}} /pid == {{PID}}/\n{\n  @_enter[tid, {{ID}}] = nsecs;\n}\n\nuretprobe:{{BINARY}}:{{SYMBOL}} /pid == {{PID}} && @_enter[tid, {{ID}}] != 0/\n{\n  @filter_ns[\"{{FILTER}}\", \"{{METHOD}}\"] = hist(nsecs - @_enter[tid, {{ID}}]);\n  delete(@_enter[tid, {{ID}}]);\n}\n\n// hookpoint:end\n\ninterval:s:{{INTERVAL}}\n{\n  print(@filter_ns);\n}\n\nEND\n{\n  clear(@_enter);\n}\n",
    "bodyStart": 1006
  },
  {
    "header": {
      "name": "envoy-request-flow",
      "purpose": "Stock Envoy - where a request's time goes on its worker thread, from the socket becoming readable through codec, filters and router to the upstream request, and from the upstream response to the downstream write.",
      "requires": [
        "_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv",
        "_ZN5Envoy4Http5Http*14ConnectionImpl8dispatchERNS_6Buffer8InstanceE",
        "_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb",
        "_ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb | _ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb"
      ],
      "maps": [
        {
          "name": "@request_phase_ns",
          "kind": "hist",
          "unit": "ns",
          "metric": "request_phase_duration",
          "meaning": "time between two points of a request on its worker thread, by phase: read_to_dispatch (socket readable to codec dispatch: the read), dispatch_to_filters (codec dispatch to the filter chain: header parsing), filters_to_router (filter chain to the router filter), dispatch_to_router (codec dispatch to the router filter), router_to_upstream (router filter to the upstream request's headers encoded), read_to_upstream (socket readable to the upstream request's headers encoded), response_to_write (upstream response headers to the next downstream write)",
          "keys": [
            "phase"
          ]
        }
      ],
      "minBpftrace": "0.17",
      "default": true
    },
    "source": "/* hookpoint\nname: envoy-request-flow\npurpose: Stock Envoy - where a request's time goes on its worker thread, from the socket becoming readable through codec, filters and router to the upstream request, and from the upstream response to the downstream write.\nrequires:\n  - _ZN5Envoy7Network14ConnectionImpl11onReadReadyEv\n  - _ZN5Envoy4Http5Http*14ConnectionImpl8dispatchERNS_6Buffer8InstanceE\n  - _ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb\n  - _ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb | _ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb\nmaps:\n  - name: \"@request_phase_ns\"\n    kind: hist\n    unit: ns\n    metric: request_phase_duration\n    keys: [phase]\n    meaning: >-\n      time between two points of a request on its worker thread, by phase:\n      read_to_dispatch (socket readable to codec dispatch: the read),\n      dispatch_to_filters (codec dispatch to the filter chain: header parsing),\n      filters_to_router (filter chain to the router filter),\n      dispatch_to_router (codec dispatch to the router filter),\n      router_to_upstream (router filter to the upstream request's headers encoded),\n      read_to_upstream (socket readable to the upstream request's headers encoded),\n      response_to_write (upstream response headers to the next downstream write)\nminBpftrace: \"0.17\"\ndefault: true\n*/\n// Envoy runs a request's read, codec dispatch, filter chain and router in one call stack\n// on one worker thread, so marks keyed by thread id chain the phases together without\n// following pointers. A new readable event starts over, so no phase spans two reads.\n// Only the first request of a read gets the phases before the router (pipelined requests\n// share the read and the dispatch). Symbols not in `requires` are optional: their\n// probes, and the phases they mark, are left out where the binary lacks them.\n\n// Marks set by optional probes must exist even when those probes are left out.\nBEGIN\n{\n  @_filters[tid] = nsecs;\n  delete(@_filters[tid]);\n  @_response[tid] = nsecs;\n  delete(@_response[tid]);\n}\n\n// Envoy::Network::ConnectionImpl::onReadReady()\nuprobe:{{BINARY}}:_ZN5Envoy7Network14ConnectionImpl11onReadReadyEv /pid == {{PID}}/\n{\n  @_read[tid] = nsecs;\n  delete(@_dispatch[tid]);\n  delete(@_filters[tid]);\n  delete(@_router[tid]);\n}\n\n// Envoy::Http::Http1::ConnectionImpl::dispatch(Envoy::Buffer::Instance&) and the Http2 one\nuprobe:{{BINARY}}:_ZN5Envoy4Http5Http*14ConnectionImpl8dispatchERNS_6Buffer8InstanceE /pid == {{PID}}/\n{\n  if (@_read[tid] != 0) {\n    @request_phase_ns[\"read_to_dispatch\"] = hist(nsecs - @_read[tid]);\n  }\n  @_dispatch[tid] = nsecs;\n}\n\n// Envoy::Http::FilterManager::decodeHeaders(ActiveStreamDecoderFilter*, RequestHeaderMap&, bool);\n// re-entered when a filter resumes iteration, so only the first entry counts.\nuprobe:{{BINARY}}:_ZN5Envoy4Http13FilterManager13decodeHeadersEPNS0_25ActiveStreamDecoderFilterERNS0_16RequestHeaderMapEb /pid == {{PID}} && @_dispatch[tid] != 0 && @_filters[tid] == 0/\n{\n  @request_phase_ns[\"dispatch_to_filters\"] = hist(nsecs - @_dispatch[tid]);\n  @_filters[tid] = nsecs;\n}\n\n// Envoy::Router::Filter::decodeHeaders(Envoy::Http::RequestHeaderMap&, bool)\n// (its _ZThn thunk jumps here, so probing the function itself counts each call once)\nuprobe:{{BINARY}}:_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb /pid == {{PID}}/\n{\n  if (@_filters[tid] != 0) {\n    @request_phase_ns[\"filters_to_router\"] = hist(nsecs - @_filters[tid]);\n    delete(@_filters[tid]);\n  }\n  if (@_dispatch[tid] != 0) {\n    @request_phase_ns[\"dispatch_to_router\"] = hist(nsecs - @_dispatch[tid]);\n    delete(@_dispatch[tid]);\n  }\n  @_router[tid] = nsecs;\n}\n\n// Envoy::Router::UpstreamRequest::encodeHeaders(bool) (Envoy < 1.24), or\n// Envoy::Router::UpstreamRequest::acceptHeadersFromRouter(bool) (Envoy >= 1.24)\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb,\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb\n/pid == {{PID}} && @_router[tid] != 0/\n{\n  @request_phase_ns[\"router_to_upstream\"] = hist(nsecs - @_router[tid]);\n  delete(@_router[tid]);\n  if (@_read[tid] != 0) {\n    @request_phase_ns[\"read_to_upstream\"] = hist(nsecs - @_read[tid]);\n    delete(@_read[tid]);\n  }\n}\n\n// Envoy::Router::UpstreamRequest::decodeHeaders(ResponseHeaderMapPtr&&, bool): the\n// upstream response arrived; Envoy writes it downstream from the next onWriteReady().\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest13decodeHeaders* /pid == {{PID}}/\n{\n  @_response[tid] = nsecs;\n}\n\n// Envoy::Network::ConnectionImpl::onWriteReady()\nuprobe:{{BINARY}}:_ZN5Envoy7Network14ConnectionImpl12onWriteReadyEv /pid == {{PID}} && @_response[tid] != 0/\n{\n  @request_phase_ns[\"response_to_write\"] = hist(nsecs - @_response[tid]);\n  delete(@_response[tid]);\n}\n\ninterval:s:{{INTERVAL}}\n{\n  print(@request_phase_ns);\n}\n\nEND\n{\n  clear(@_read);\n  clear(@_dispatch);\n  clear(@_filters);\n  clear(@_router);\n  clear(@_response);\n}\n",
    "bodyStart": 1354
  },
  {
    "header": {
      "name": "envoy-request-trace",
      "purpose": "Stock Envoy - follows sampled requests one by one through the worker's event loop (read, codec, filters, router, upstream connect, write, wait, read, downstream write) and prints their events; the agent assembles request records from them.",
      "requires": [
        "_ZN5Envoy4Http5Http114ConnectionImpl8dispatchERNS_6Buffer8InstanceE",
        "_ZN5Envoy4Http5Http214ConnectionImpl8dispatchERNS_6Buffer8InstanceE",
        "_ZN5Envoy4Http13FilterManager13decodeHeadersEPNS0_25ActiveStreamDecoderFilterERNS0_16RequestHeaderMapEb",
        "_ZN5Envoy4Http13FilterManager10decodeDataEPNS0_25ActiveStreamDecoderFilterERNS_6Buffer8InstanceEbNS1_25FilterIterationStartStateE",
        "_ZN5Envoy4Http13FilterManager13encodeHeadersEPNS0_25ActiveStreamEncoderFilterERNS0_17ResponseHeaderMapEb",
        "_ZN5Envoy4Http13FilterManager10encodeDataEPNS0_25ActiveStreamEncoderFilterERNS_6Buffer8InstanceEbNS1_25FilterIterationStartStateE",
        "_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb",
        "_ZN5Envoy6Router6Filter17onResponseTimeoutEv",
        "_ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb | _ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb",
        "_ZN5Envoy6Router15UpstreamRequest10encodeDataERNS_6Buffer8InstanceEb | _ZN5Envoy6Router15UpstreamRequest20acceptDataFromRouterERNS_6Buffer8InstanceEb",
        "_ZN5Envoy6Router15UpstreamRequest11onPoolReadyE*",
        "_ZN5Envoy6Router15UpstreamRequest13onPoolFailureE*",
        "_ZN5Envoy6Router15UpstreamRequest13decodeHeadersE*",
        "_ZN5Envoy6Router15UpstreamRequest13onResetStreamE*",
        "_ZN5Envoy4Http20HttpConnPoolImplBase11onPoolReadyERNS_14ConnectionPool12ActiveClientERNS2_13AttachContextE",
        "tracepoint:syscalls:sys_exit_epoll_*wait",
        "tracepoint:syscalls:sys_enter_read",
        "tracepoint:syscalls:sys_enter_readv",
        "tracepoint:syscalls:sys_enter_recvfrom",
        "tracepoint:syscalls:sys_exit_read",
        "tracepoint:syscalls:sys_exit_readv",
        "tracepoint:syscalls:sys_exit_recvfrom",
        "tracepoint:syscalls:sys_enter_write",
        "tracepoint:syscalls:sys_enter_writev",
        "tracepoint:syscalls:sys_enter_sendto",
        "tracepoint:syscalls:sys_exit_write",
        "tracepoint:syscalls:sys_exit_writev",
        "tracepoint:syscalls:sys_exit_sendto",
        "tracepoint:syscalls:sys_enter_connect",
        "tracepoint:syscalls:sys_enter_accept4",
        "tracepoint:syscalls:sys_exit_accept4",
        "tracepoint:syscalls:sys_enter_getsockname",
        "tracepoint:syscalls:sys_exit_getsockname",
        "tracepoint:syscalls:sys_enter_close"
      ],
      "maps": [
        {
          "name": "@trace_requests",
          "kind": "count",
          "unit": "count",
          "metric": "request_trace_requests",
          "meaning": "requests whose headers entered the filter chain (each one is sampled or not)",
          "keys": []
        },
        {
          "name": "@trace_sampled",
          "kind": "count",
          "unit": "count",
          "metric": "request_trace_sampled",
          "meaning": "requests traced (their events printed)",
          "keys": []
        },
        {
          "name": "@trace_rate_limited",
          "kind": "count",
          "unit": "count",
          "metric": "request_trace_rate_limited",
          "meaning": "requests the 1-in-N sampling chose but the per-second cap turned away",
          "keys": []
        }
      ],
      "minBpftrace": "0.17",
      "default": false,
      "events": [
        {
          "tag": "Q",
          "fields": [
            "tid",
            "seq",
            "ts",
            "comm",
            "fd",
            "proto",
            "read_start",
            "read_end",
            "codec_start",
            "round",
            "stream",
            "peer",
            "peer6a",
            "peer6b",
            "local",
            "local6a",
            "local6b",
            "capture"
          ],
          "meaning": "a traced request's headers enter the filter chain (ts); its downstream socket, read batch and codec start"
        },
        {
          "tag": "K",
          "fields": [
            "tid",
            "seq",
            "part",
            "bytes"
          ],
          "meaning": "256 captured bytes (part 0, 1 of the downstream read; 2, 3 of the first upstream write), escaped as bpftrace's %r"
        },
        {
          "tag": "R",
          "fields": [
            "tid",
            "seq",
            "ts",
            "round"
          ],
          "meaning": "the router filter's decodeHeaders"
        },
        {
          "tag": "C",
          "fields": [
            "tid",
            "seq",
            "ts",
            "fd",
            "round"
          ],
          "meaning": "connect(2) of a new upstream connection for this request"
        },
        {
          "tag": "P",
          "fields": [
            "tid",
            "seq",
            "ts",
            "fd",
            "round",
            "end",
            "last",
            "peer",
            "peer6a",
            "peer6b",
            "local",
            "local6a",
            "local6b"
          ],
          "meaning": "the upstream request got its connection (fd -1 when not known); end 1 when the whole request is queued; last = the socket's last write(2) return when that write drained it, else 0"
        },
        {
          "tag": "I",
          "fields": [
            "tid",
            "seq",
            "ts",
            "fd",
            "round",
            "end",
            "last"
          ],
          "meaning": "request body handed to the upstream connection"
        },
        {
          "tag": "F",
          "fields": [
            "tid",
            "seq",
            "ts",
            "kind",
            "round"
          ],
          "meaning": "the upstream request failed (kind 1 pool failure, 2 response timeout, 3 reset)"
        },
        {
          "tag": "U",
          "fields": [
            "tid",
            "seq",
            "ts",
            "fd",
            "round"
          ],
          "meaning": "the upstream response headers arrived; ts = the first read(2) of that read batch"
        },
        {
          "tag": "H",
          "fields": [
            "tid",
            "seq",
            "ts",
            "fd",
            "round",
            "end",
            "last"
          ],
          "meaning": "the response headers enter the encoder filter chain"
        },
        {
          "tag": "O",
          "fields": [
            "tid",
            "seq",
            "ts",
            "fd",
            "round",
            "end",
            "last"
          ],
          "meaning": "response body enters the encoder filter chain"
        },
        {
          "tag": "E",
          "fields": [
            "tid",
            "seq",
            "ts",
            "fd",
            "round",
            "last"
          ],
          "meaning": "the response's trailers enter the encoder filter chain (FilterManager::encodeTrailers); they end it (gRPC)"
        },
        {
          "tag": "X",
          "fields": [
            "tid",
            "seq",
            "ts",
            "round"
          ],
          "meaning": "the router reset the upstream request (the downstream went away, a timeout, or it answered before the request's end)"
        },
        {
          "tag": "Y",
          "fields": [
            "tid",
            "seq",
            "ts",
            "round"
          ],
          "meaning": "the router retries (Router::Filter::doRetry, from its retry backoff timer); the upstream request it starts is followed and is the one recorded"
        },
        {
          "tag": "D",
          "fields": [
            "tid",
            "seq",
            "ts",
            "reason",
            "round"
          ],
          "meaning": "Envoy reset the request's downstream stream (ActiveStream::onResetStream; reason = Http::StreamResetReason, 2 = the client's RST_STREAM); also after a finished response whose request body was still coming, which stays recorded"
        },
        {
          "tag": "G",
          "fields": [
            "tid",
            "seq",
            "ts",
            "round"
          ],
          "meaning": "another call for this request in a new wake-up round"
        },
        {
          "tag": "T",
          "fields": [
            "tid",
            "fd",
            "enter",
            "exit",
            "count",
            "ret",
            "round"
          ],
          "meaning": "a write(2) on a socket a traced request waits on"
        },
        {
          "tag": "Z",
          "fields": [
            "tid",
            "fd",
            "ts"
          ],
          "meaning": "close(2) of a socket a traced request waits on, came in on or went upstream on"
        },
        {
          "tag": "L",
          "fields": [
            "tid",
            "seq",
            "enter",
            "exit",
            "probe",
            "round"
          ],
          "meaning": "one HTTP filter callback of the request (probe names the filter method's return probe)"
        },
        {
          "tag": "A",
          "fields": [
            "tid",
            "seq",
            "ts",
            "round"
          ],
          "meaning": "ext_authz's check answered (ExtAuthz::Filter::onComplete)"
        }
      ],
      "with": {
        "envoy-http-filters": [
          "_ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb",
          "_ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb",
          "_ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb",
          "_ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb",
          "_ZN5Envoy10Extensions11HttpFilters8ExtAuthz6Filter10onCompleteE*"
        ]
      }
    },
    "source": "/* hookpoint\nname: envoy-request-trace\npurpose: Stock Envoy - follows sampled requests one by one through the worker's event loop (read, codec, filters, router, upstream connect, write, wait, read, downstream write) and prints their events; the agent assembles request records from them.\nrequires:\n  - _ZN5Envoy4Http5Http114ConnectionImpl8dispatchERNS_6Buffer8InstanceE\n  - _ZN5Envoy4Http5Http214ConnectionImpl8dispatchERNS_6Buffer8InstanceE\n  - _ZN5Envoy4Http13FilterManager13decodeHeadersEPNS0_25ActiveStreamDecoderFilterERNS0_16RequestHeaderMapEb\n  - _ZN5Envoy4Http13FilterManager10decodeDataEPNS0_25ActiveStreamDecoderFilterERNS_6Buffer8InstanceEbNS1_25FilterIterationStartStateE\n  - _ZN5Envoy4Http13FilterManager13encodeHeadersEPNS0_25ActiveStreamEncoderFilterERNS0_17ResponseHeaderMapEb\n  - _ZN5Envoy4Http13FilterManager10encodeDataEPNS0_25ActiveStreamEncoderFilterERNS_6Buffer8InstanceEbNS1_25FilterIterationStartStateE\n  - _ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb\n  - _ZN5Envoy6Router6Filter17onResponseTimeoutEv\n  - _ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb | _ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb\n  - _ZN5Envoy6Router15UpstreamRequest10encodeDataERNS_6Buffer8InstanceEb | _ZN5Envoy6Router15UpstreamRequest20acceptDataFromRouterERNS_6Buffer8InstanceEb\n  - _ZN5Envoy6Router15UpstreamRequest11onPoolReadyE*\n  - _ZN5Envoy6Router15UpstreamRequest13onPoolFailureE*\n  - _ZN5Envoy6Router15UpstreamRequest13decodeHeadersE*\n  - _ZN5Envoy6Router15UpstreamRequest13onResetStreamE*\n  - _ZN5Envoy4Http20HttpConnPoolImplBase11onPoolReadyERNS_14ConnectionPool12ActiveClientERNS2_13AttachContextE\n  - tracepoint:syscalls:sys_exit_epoll_*wait\n  - tracepoint:syscalls:sys_enter_read\n  - tracepoint:syscalls:sys_enter_readv\n  - tracepoint:syscalls:sys_enter_recvfrom\n  - tracepoint:syscalls:sys_exit_read\n  - tracepoint:syscalls:sys_exit_readv\n  - tracepoint:syscalls:sys_exit_recvfrom\n  - tracepoint:syscalls:sys_enter_write\n  - tracepoint:syscalls:sys_enter_writev\n  - tracepoint:syscalls:sys_enter_sendto\n  - tracepoint:syscalls:sys_exit_write\n  - tracepoint:syscalls:sys_exit_writev\n  - tracepoint:syscalls:sys_exit_sendto\n  - tracepoint:syscalls:sys_enter_connect\n  - tracepoint:syscalls:sys_enter_accept4\n  - tracepoint:syscalls:sys_exit_accept4\n  - tracepoint:syscalls:sys_enter_getsockname\n  - tracepoint:syscalls:sys_exit_getsockname\n  - tracepoint:syscalls:sys_enter_close\nmaps:\n  - name: \"@trace_requests\"\n    kind: count\n    unit: count\n    metric: request_trace_requests\n    meaning: requests whose headers entered the filter chain (each one is sampled or not)\n  - name: \"@trace_sampled\"\n    kind: count\n    unit: count\n    metric: request_trace_sampled\n    meaning: requests traced (their events printed)\n  - name: \"@trace_rate_limited\"\n    kind: count\n    unit: count\n    metric: request_trace_rate_limited\n    meaning: requests the 1-in-N sampling chose but the per-second cap turned away\nevents:\n  - tag: Q\n    fields: [tid, seq, ts, comm, fd, proto, read_start, read_end, codec_start, round, stream, peer, peer6a, peer6b, local, local6a, local6b, capture]\n    meaning: a traced request's headers enter the filter chain (ts); its downstream socket, read batch and codec start\n  - tag: K\n    fields: [tid, seq, part, bytes]\n    meaning: 256 captured bytes (part 0, 1 of the downstream read; 2, 3 of the first upstream write), escaped as bpftrace's %r\n  - tag: R\n    fields: [tid, seq, ts, round]\n    meaning: the router filter's decodeHeaders\n  - tag: C\n    fields: [tid, seq, ts, fd, round]\n    meaning: connect(2) of a new upstream connection for this request\n  - tag: P\n    fields: [tid, seq, ts, fd, round, end, last, peer, peer6a, peer6b, local, local6a, local6b]\n    meaning: the upstream request got its connection (fd -1 when not known); end 1 when the whole request is queued; last = the socket's last write(2) return when that write drained it, else 0\n  - tag: I\n    fields: [tid, seq, ts, fd, round, end, last]\n    meaning: request body handed to the upstream connection\n  - tag: F\n    fields: [tid, seq, ts, kind, round]\n    meaning: the upstream request failed (kind 1 pool failure, 2 response timeout, 3 reset)\n  - tag: U\n    fields: [tid, seq, ts, fd, round]\n    meaning: the upstream response headers arrived; ts = the first read(2) of that read batch\n  - tag: H\n    fields: [tid, seq, ts, fd, round, end, last]\n    meaning: the response headers enter the encoder filter chain\n  - tag: O\n    fields: [tid, seq, ts, fd, round, end, last]\n    meaning: response body enters the encoder filter chain\n  - tag: E\n    fields: [tid, seq, ts, fd, round, last]\n    meaning: the response's trailers enter the encoder filter chain (FilterManager::encodeTrailers); they end it (gRPC)\n  - tag: X\n    fields: [tid, seq, ts, round]\n    meaning: the router reset the upstream request (the downstream went away, a timeout, or it answered before the request's end)\n  - tag: Y\n    fields: [tid, seq, ts, round]\n    meaning: the router retries (Router::Filter::doRetry, from its retry backoff timer); the upstream request it starts is followed and is the one recorded\n  - tag: D\n    fields: [tid, seq, ts, reason, round]\n    meaning: Envoy reset the request's downstream stream (ActiveStream::onResetStream; reason = Http::StreamResetReason, 2 = the client's RST_STREAM); also after a finished response whose request body was still coming, which stays recorded\n  - tag: G\n    fields: [tid, seq, ts, round]\n    meaning: another call for this request in a new wake-up round\n  - tag: T\n    fields: [tid, fd, enter, exit, count, ret, round]\n    meaning: a write(2) on a socket a traced request waits on\n  - tag: Z\n    fields: [tid, fd, ts]\n    meaning: close(2) of a socket a traced request waits on, came in on or went upstream on\n  - tag: L\n    fields: [tid, seq, enter, exit, probe, round]\n    meaning: one HTTP filter callback of the request (probe names the filter method's return probe)\n  - tag: A\n    fields: [tid, seq, ts, round]\n    meaning: ext_authz's check answered (ExtAuthz::Filter::onComplete)\nwith:\n  envoy-http-filters:\n    - _ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb\n    - _ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb\n    - _ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb\n    - _ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb\n    - _ZN5Envoy10Extensions11HttpFilters8ExtAuthz6Filter10onCompleteE*\nminBpftrace: \"0.17\"\ndefault: false\n*/\n// Sampling is decided when a request's headers enter the filter chain: 1 in\n// {{TRACE_SAMPLE}}, at most {{TRACE_RATE}} per second. Untraced requests only update a\n// few per-thread and per-socket marks. A traced request is followed through the `this`\n// pointers of its per-request objects (FilterManager -> Router::Filter ->\n// UpstreamRequest), each learned on the worker thread from the call that creates or\n// enters it; sockets are followed by fd. Events carry CLOCK_MONOTONIC ns and the\n// thread's wake-up round; the agent orders and joins them.\n//\n// Map roles: @_fm[FilterManager] = the request's id (tid << 32 | seq) for traced\n// requests; @_rf[Router::Filter], @_ur[UpstreamRequest] = the FilterManager;\n// @_fmrf/@_fmur[FilterManager] = its Router::Filter and latest UpstreamRequest;\n// @_flt[filter] = the request's id, its filters listed in @_fl0..7[FilterManager] (see\n// the per-filter probes). A request's entries go when its stream is destroyed\n// (doDeferredStreamDestroy), an earlier try's when a retry's upstream request is linked,\n// else when their address is reused:\n// Envoy reuses freed memory, so an entry left behind would give a later stream's events to\n// an old request, and the maps (4,096 keys each) would fill up and lose new requests.\n// No map is read inside a ?: branch: bpftrace 0.23.2 yields 0 there (a read of a key\n// never written gives 0, so @_fm[0] needs no guard).\n\nBEGIN\n{\n  @_win = (uint64)0;\n  @_taken = 0;\n  // Assigned by the optional filter probes.\n  @_fent[0] = 1;\n  delete(@_fent[0]);\n  @_flt[(uint64)0] = (uint64)1;\n  delete(@_flt[(uint64)0]);\n  // Assigned by the optional filter probes, read by the flush below.\n  @_fln[(uint64)0] = (uint64)1;\n  delete(@_fln[(uint64)0]);\n  @_fl0[(uint64)0] = (uint64)1;\n  delete(@_fl0[(uint64)0]);\n  @_fl1[(uint64)0] = (uint64)1;\n  delete(@_fl1[(uint64)0]);\n  @_fl2[(uint64)0] = (uint64)1;\n  delete(@_fl2[(uint64)0]);\n  @_fl3[(uint64)0] = (uint64)1;\n  delete(@_fl3[(uint64)0]);\n  @_fl4[(uint64)0] = (uint64)1;\n  delete(@_fl4[(uint64)0]);\n  @_fl5[(uint64)0] = (uint64)1;\n  delete(@_fl5[(uint64)0]);\n  @_fl6[(uint64)0] = (uint64)1;\n  delete(@_fl6[(uint64)0]);\n  @_fl7[(uint64)0] = (uint64)1;\n  delete(@_fl7[(uint64)0]);\n  // Typed here: the filter chain's probe reads it before the upstream request's assigns it.\n  @_upfm[0] = nsecs;\n  delete(@_upfm[0]);\n  // Typed here: the upstream-ready probe reads it before the write probes assign it.\n  @_wlx[0] = nsecs;\n  delete(@_wlx[0]);\n  // Assigned by the optional stream-destroy probe, read by the flush below.\n  @_endfm[0] = (uint64)1;\n  delete(@_endfm[0]);\n  @_endrid[0] = (uint64)1;\n  delete(@_endrid[0]);\n  @_fmoff = (uint64)0;\n  // Assigned by the optional retry probe, read by the wake-up, router and upstream probes.\n  @_urretry[0] = (uint64)1;\n  delete(@_urretry[0]);\n  // Typed before the flush below reads them (bpftrace 0.23 types a map at its first use).\n  @_fmrf[(uint64)0] = (uint64)0;\n  delete(@_fmrf[(uint64)0]);\n  @_fmur[(uint64)0] = (uint64)0;\n  delete(@_fmur[(uint64)0]);\n}\n\n// A wake-up round of a worker thread: epoll_wait returned.\ntracepoint:syscalls:sys_exit_epoll_*wait /pid == {{PID}}/\n{\n  @_round[tid] = @_round[tid] + 1;\n  // Nothing below spans two rounds.\n  if (@_rfd[tid] != 0) { delete(@_rfd[tid]); }\n  if (@_urlink[tid] != 0) { delete(@_urlink[tid]); }\n  if (@_urretry[tid] != 0) { delete(@_urretry[tid]); }\n  if (@_urctx[tid] != 0) { delete(@_urctx[tid]); }\n  if (@_gsfd[tid] != 0) { delete(@_gsfd[tid]); }\n  // The stream that ended last on this thread (see doDeferredStreamDestroy).\n  $ef = @_endfm[tid];\n  if ($ef != 0) {\n    if (@_fm[$ef] == @_endrid[tid]) {\n      delete(@_fm[$ef]);\n      if (@_fd[$ef] != 0) { delete(@_fd[$ef]); }\n      if (@_lr[$ef] != 0) { delete(@_lr[$ef]); }\n      $erf = @_fmrf[$ef];\n      if ($erf != 0 && @_rf[$erf] == $ef) { delete(@_rf[$erf]); }\n      $eur = @_fmur[$ef];\n      if ($eur != 0 && @_ur[$eur] == $ef) {\n        delete(@_ur[$eur]);\n        if (@_urfd[$eur] != 0) { delete(@_urfd[$eur]); }\n        if (@_urend[$eur] != 0) { delete(@_urend[$eur]); }\n        if (@_urcl[$eur] != 0) { delete(@_urcl[$eur]); }\n      }\n      if (@_fmrf[$ef] != 0) { delete(@_fmrf[$ef]); }\n      if (@_fmur[$ef] != 0) { delete(@_fmur[$ef]); }\n      // Its filters (see the per-filter probes), each while it still maps to this request.\n      $efn = @_fln[$ef];\n      if ($efn != 0) {\n        $erid = @_endrid[tid];\n        $efl = @_fl0[$ef];\n        if ($efl != 0) {\n          if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n          delete(@_fl0[$ef]);\n        }\n        if ($efn > 1) {\n          $efl = @_fl1[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl1[$ef]);\n          }\n        }\n        if ($efn > 2) {\n          $efl = @_fl2[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl2[$ef]);\n          }\n        }\n        if ($efn > 3) {\n          $efl = @_fl3[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl3[$ef]);\n          }\n        }\n        if ($efn > 4) {\n          $efl = @_fl4[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl4[$ef]);\n          }\n        }\n        if ($efn > 5) {\n          $efl = @_fl5[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl5[$ef]);\n          }\n        }\n        if ($efn > 6) {\n          $efl = @_fl6[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl6[$ef]);\n          }\n        }\n        if ($efn > 7) {\n          $efl = @_fl7[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl7[$ef]);\n          }\n        }\n        delete(@_fln[$ef]);\n      }\n    }\n    delete(@_endfm[tid]);\n    if (@_endrid[tid] != 0) { delete(@_endrid[tid]); }\n  }\n}\n\n// ---- reads: the batch of read(2)s that a codec dispatch then parses ----\ntracepoint:syscalls:sys_enter_read /pid == {{PID}}/\n{\n  $now = nsecs;\n  $fd = (uint64)args->fd;\n  if (@_rfd[tid] != $fd + 1 || @_disp[tid] != 0) {\n    @_rfd[tid] = $fd + 1;\n    @_rs[tid] = $now;\n    @_rcap[tid] = 0;\n    @_disp[tid] = 0;\n  }\n  @_rbuf[tid] = (uint64)args->buf;\n}\n\ntracepoint:syscalls:sys_enter_readv /pid == {{PID}}/\n{\n  $now = nsecs;\n  $fd = (uint64)args->fd;\n  if (@_rfd[tid] != $fd + 1 || @_disp[tid] != 0) {\n    @_rfd[tid] = $fd + 1;\n    @_rs[tid] = $now;\n    @_rcap[tid] = 0;\n    @_disp[tid] = 0;\n  }\n  @_rbuf[tid] = *(uint64 *)uptr(args->vec);\n}\n\ntracepoint:syscalls:sys_enter_recvfrom /pid == {{PID}}/\n{\n  $now = nsecs;\n  $fd = (uint64)args->fd;\n  if (@_rfd[tid] != $fd + 1 || @_disp[tid] != 0) {\n    @_rfd[tid] = $fd + 1;\n    @_rs[tid] = $now;\n    @_rcap[tid] = 0;\n    @_disp[tid] = 0;\n  }\n  @_rbuf[tid] = (uint64)args->ubuf;\n}\n\n// The batch's end; its first read with data is kept for the capture (only when it is the\n// only read with data: a later read overwrites a reused buffer).\ntracepoint:syscalls:sys_exit_read,\ntracepoint:syscalls:sys_exit_readv,\ntracepoint:syscalls:sys_exit_recvfrom\n/pid == {{PID}} && @_rfd[tid] != 0/\n{\n  $now = nsecs;\n  @_re[tid] = $now;\n  if (args->ret > 0) {\n    if (@_rcap[tid] == 0) {\n      @_rcap[tid] = (@_rbuf[tid] << 16) | (uint64)(args->ret > 512 ? 512 : args->ret);\n    } else {\n      @_rcap[tid] = 1;\n    }\n  }\n}\n\n// ---- codecs: a dispatch parses the batch; it starts a request's codec phase ----\nuprobe:{{BINARY}}:_ZN5Envoy4Http5Http114ConnectionImpl8dispatchERNS_6Buffer8InstanceE /pid == {{PID}}/\n{\n  $now = nsecs;\n  @_mark[tid] = $now;\n  @_disp[tid] = 1;\n}\n\nuprobe:{{BINARY}}:_ZN5Envoy4Http5Http214ConnectionImpl8dispatchERNS_6Buffer8InstanceE /pid == {{PID}}/\n{\n  $now = nsecs;\n  @_mark[tid] = $now;\n  @_disp[tid] = 2;\n}\n\n// ---- the filter chain ----\n// FilterManager::decodeHeaders(filter, headers, end_stream): filter NULL = a request's\n// headers enter the chain (sampled here); otherwise a stopped chain resumes.\n// From Envoy 1.27 (1.25 and 1.26 by default) the upstream request runs a FilterManager of\n// its own: acceptHeadersFromRouter calls its decodeHeaders(NULL) too, nested in the\n// request's router or a retry's doRetry, with no codec dispatch and no decodeHeaders return\n// on this thread in between. Such a call is no request: it is neither counted nor sampled\n// and leaves this thread's request state (@_cur, @_h2n) alone. A downstream request's\n// headers always come after its codec's dispatch, which sets @_mark, as every\n// decodeHeaders return does; so where the acceptHeadersFromRouter (or encodeHeaders) mark\n// @_upfm is newer than @_mark, the call is the upstream one. An older mark needs no clearing.\nuprobe:{{BINARY}}:_ZN5Envoy4Http13FilterManager13decodeHeadersEPNS0_25ActiveStreamDecoderFilterERNS0_16RequestHeaderMapEb /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $a1 = arg1;\n  if ($a1 == 0 && @_upfm[tid] > @_mark[tid]) {\n    // An entry left at this address by a request whose stream's end was not seen would\n    // take the upstream FilterManager's encode calls.\n    if (@_fm[$this] != 0) { delete(@_fm[$this]); }\n  } else if ($a1 == 0) {\n    @trace_requests = count();\n    $fd = @_rfd[tid] - 1;\n    // HTTP/2 streams on a connection seen from its accept: the k-th request is stream 2k-1.\n    $stream = 0;\n    if (@_disp[tid] == 2 && @_h2n[$fd] != 0) {\n      @_h2n[$fd] = @_h2n[$fd] + 1;\n      $stream = (int64)(2 * (@_h2n[$fd] - 1) - 1);\n    }\n    $take = 0;\n    if (rand % {{TRACE_SAMPLE}} == 0) {\n      $w = $now / 1000000000;\n      if (@_win != $w) {\n        @_win = $w;\n        @_taken = 0;\n      }\n      if (@_taken < {{TRACE_RATE}}) {\n        @_taken = @_taken + 1;\n        $take = 1;\n      } else {\n        @trace_rate_limited = count();\n      }\n    }\n    if ($take) {\n      @trace_sampled = count();\n      @_seq[tid] = @_seq[tid] + 1;\n      $rid = ((uint64)tid << 32) | (@_seq[tid] & 0xffffffff);\n      @_fm[$this] = $rid;\n      @_fd[$this] = $fd;\n      @_traced = 1;\n      // Its router filter and upstream request are linked below (first ones only), its\n      // filters listed from the first (an earlier request's list, left where its stream's\n      // end was not seen, is overwritten).\n      if (@_fmrf[$this] != 0) { delete(@_fmrf[$this]); }\n      if (@_fmur[$this] != 0) { delete(@_fmur[$this]); }\n      if (@_fln[$this] != 0) { delete(@_fln[$this]); }\n      // Its close ends the request if the response has not finished (aborted); so does\n      // the close of its upstream connection (marked when it gets one) before any answer.\n      @_dn[$fd] = 1;\n      @_lr[$this] = @_round[tid];\n      $rc = @_rcap[tid];\n      $cap = @_disp[tid] == 1 && $rc > 1 ? $rc & 0xffff : 0;\n      printf(\"Q %d %d %lu %s %ld %d %lu %lu %lu %lu %ld %lx %lx %lx %lx %lx %lx %d\\n\", tid, $rid & 0xffffffff, $now, comm, $fd, @_disp[tid], @_rs[tid], @_re[tid], @_mark[tid], @_round[tid], $stream, @_pa[$fd], @_pa6a[$fd], @_pa6b[$fd], @_la[$fd], @_la6a[$fd], @_la6b[$fd], $cap);\n      if ($cap > 0) {\n        $b = @_rcap[tid] >> 16;\n        $n = (int64)$cap;\n        // Each 64-byte piece as long as the data goes (the verifier needs the clamps).\n        $l0 = $n; if ($l0 > 64) { $l0 = 64; }\n        $l1 = $n - 64; if ($l1 < 0) { $l1 = 0; } if ($l1 > 64) { $l1 = 64; }\n        $l2 = $n - 128; if ($l2 < 0) { $l2 = 0; } if ($l2 > 64) { $l2 = 64; }\n        $l3 = $n - 192; if ($l3 < 0) { $l3 = 0; } if ($l3 > 64) { $l3 = 64; }\n        printf(\"K %d %d 0 %r%r%r%r\\n\", tid, $rid & 0xffffffff, buf(uptr($b), $l0), buf(uptr($b + 64), $l1), buf(uptr($b + 128), $l2), buf(uptr($b + 192), $l3));\n        if ($n > 256) {\n          $l4 = $n - 256; if ($l4 > 64) { $l4 = 64; }\n          $l5 = $n - 320; if ($l5 < 0) { $l5 = 0; } if ($l5 > 64) { $l5 = 64; }\n          $l6 = $n - 384; if ($l6 < 0) { $l6 = 0; } if ($l6 > 64) { $l6 = 64; }\n          $l7 = $n - 448; if ($l7 < 0) { $l7 = 0; } if ($l7 > 64) { $l7 = 64; }\n          printf(\"K %d %d 1 %r%r%r%r\\n\", tid, $rid & 0xffffffff, buf(uptr($b + 256), $l4), buf(uptr($b + 320), $l5), buf(uptr($b + 384), $l6), buf(uptr($b + 448), $l7));\n        }\n      }\n      @_cur[tid] = $this;\n    } else {\n      if (@_fm[$this] != 0) { delete(@_fm[$this]); }\n      @_cur[tid] = 0;\n    }\n  } else {\n    $rid = @_fm[$this];\n    @_cur[tid] = $rid != 0 ? $this : 0;\n    if ($rid != 0 && @_lr[$this] != @_round[tid]) {\n      @_lr[$this] = @_round[tid];\n      printf(\"G %d %d %lu %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n    }\n  }\n}\n\n// The next request parsed by the same dispatch starts its codec phase here.\nuretprobe:{{BINARY}}:_ZN5Envoy4Http13FilterManager13decodeHeadersEPNS0_25ActiveStreamDecoderFilterERNS0_16RequestHeaderMapEb /pid == {{PID}}/\n{\n  $now = nsecs;\n  @_mark[tid] = $now;\n}\n\nuprobe:{{BINARY}}:_ZN5Envoy4Http13FilterManager10decodeDataEPNS0_25ActiveStreamDecoderFilterERNS_6Buffer8InstanceEbNS1_25FilterIterationStartStateE /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $rid = @_fm[$this];\n  @_cur[tid] = $rid != 0 ? $this : 0;\n  if ($rid != 0 && @_lr[$this] != @_round[tid]) {\n    @_lr[$this] = @_round[tid];\n    printf(\"G %d %d %lu %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n  }\n}\n\n// ---- the router ----\nuprobe:{{BINARY}}:_ZN5Envoy6Router6Filter13decodeHeadersERNS_4Http16RequestHeaderMapEb /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $k = @_cur[tid];\n  $rid = @_fm[$k];\n  // A router call is no retry (see doRetry).\n  if (@_urretry[tid] != 0) { delete(@_urretry[tid]); }\n  if ($rid != 0) {\n    @_rf[$this] = $k;\n    // The request's own router is the first; a mirror's (Envoy's async client runs a router\n    // of its own inside this one) is linked too but is not the one the stream's end deletes.\n    if (@_fmrf[$k] == 0) {\n      @_fmrf[$k] = $this;\n    }\n    @_urlink[tid] = $k;\n    printf(\"R %d %d %lu %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n  } else {\n    if (@_rf[$this] != 0) { delete(@_rf[$this]); }\n    if (@_urlink[tid] != 0) { delete(@_urlink[tid]); }\n  }\n}\n\n// UpstreamRequest::encodeHeaders(end_stream) (acceptHeadersFromRouter from Envoy 1.24):\n// created by the router filter just called on this thread (decodeHeaders, or doRetry).\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest13encodeHeadersEb,\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest23acceptHeadersFromRouterEb\n/pid == {{PID}}/\n{\n  $this = arg0;\n  $a1 = arg1;\n  // The upstream FilterManager's decodeHeaders(NULL) follows within this call (see the\n  // filter chain's probe); Envoy < 1.27 may call none, and its mark goes stale.\n  @_upfm[tid] = nsecs;\n  $k = @_urlink[tid];\n  if (@_urlink[tid] != 0) { delete(@_urlink[tid]); }\n  $retry = @_urretry[tid];\n  if (@_urretry[tid] != 0) { delete(@_urretry[tid]); }\n  // A zero is not stored (a read of a missing key gives 0), so that the stream's end can\n  // delete every entry (a delete only where the value is nonzero: bpftrace 0.23 warns\n  // about deleting a missing key).\n  if (@_urfd[$this] != 0) { delete(@_urfd[$this]); }\n  if (@_urend[$this] != 0) { delete(@_urend[$this]); }\n  if (@_urcl[$this] != 0) { delete(@_urcl[$this]); }\n  if ($k != 0 && @_fm[$k] != 0) {\n    $prev = @_fmur[$k];\n    if ($retry == $k) {\n      // A retry (doRetry linked it): the earlier try's entries go, as Envoy is done with it\n      // (it failed or was reset before the retry). Hedging (hedge_on_per_try_timeout) keeps\n      // that one in flight: from here its events print nothing.\n      if ($prev != 0 && $prev != $this && @_ur[$prev] == $k) {\n        delete(@_ur[$prev]);\n        if (@_urfd[$prev] != 0) { delete(@_urfd[$prev]); }\n        if (@_urend[$prev] != 0) { delete(@_urend[$prev]); }\n        if (@_urcl[$prev] != 0) { delete(@_urcl[$prev]); }\n      }\n      @_fmur[$k] = $this;\n    } else if ($prev == 0) {\n      // The request's first upstream request. A second one that no retry started (a\n      // mirror's, from its own router inside this one) is followed too, keeps the first's\n      // entries, and is not the one the stream's end deletes.\n      @_fmur[$k] = $this;\n    }\n    @_ur[$this] = $k;\n    if ($a1 & 1) {\n      @_urend[$this] = (uint64)1;\n    }\n    @_urctx[tid] = $k;\n  } else {\n    if (@_ur[$this] != 0) { delete(@_ur[$this]); }\n    if (@_urctx[tid] != 0) { delete(@_urctx[tid]); }\n  }\n}\n\n// A new upstream connection: connect(2) inside the upstream request's encodeHeaders is\n// its own (not pooled). Every connect's peer is kept per fd.\ntracepoint:syscalls:sys_enter_connect /pid == {{PID}}/\n{\n  $now = nsecs;\n  $fd = (uint64)args->fd;\n  $sa = (uint64)args->uservaddr;\n  $fam = *(uint16 *)uptr($sa);\n  $port = *(uint16 *)uptr($sa + 2);\n  @_pa[$fd] = ((uint64)$fam << 48) | ((uint64)$port << 32) | ($fam == 2 ? (uint64)*(uint32 *)uptr($sa + 4) : 0);\n  @_pa6a[$fd] = $fam == 10 ? *(uint64 *)uptr($sa + 8) : 0;\n  @_pa6b[$fd] = $fam == 10 ? *(uint64 *)uptr($sa + 16) : 0;\n  if (@_la[$fd] != 0) { delete(@_la[$fd]); }\n  if (@_h2n[$fd] != 0) { delete(@_h2n[$fd]); }\n  if (@_ip[$fd] != 0) { delete(@_ip[$fd]); }\n  if (@_irem[$fd] != 0) { delete(@_irem[$fd]); }\n  if (@_wlx[$fd] != 0) { delete(@_wlx[$fd]); }\n  @_conning[$fd] = 1;\n  $k = @_urctx[tid];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    printf(\"C %d %d %lu %ld %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, $fd, @_round[tid]);\n  }\n}\n\n// Accepted downstream connections: peer address, and HTTP/2 stream counting from here.\ntracepoint:syscalls:sys_enter_accept4 /pid == {{PID}}/\n{\n  @_acc[tid] = (uint64)args->upeer_sockaddr;\n}\n\ntracepoint:syscalls:sys_exit_accept4 /pid == {{PID}} && @_acc[tid] != 0/\n{\n  $sa = @_acc[tid];\n  if (@_acc[tid] != 0) { delete(@_acc[tid]); }\n  if (args->ret >= 0) {\n    $fd = (uint64)args->ret;\n    $fam = *(uint16 *)uptr($sa);\n    $port = *(uint16 *)uptr($sa + 2);\n    @_pa[$fd] = ((uint64)$fam << 48) | ((uint64)$port << 32) | ($fam == 2 ? (uint64)*(uint32 *)uptr($sa + 4) : 0);\n    @_pa6a[$fd] = $fam == 10 ? *(uint64 *)uptr($sa + 8) : 0;\n    @_pa6b[$fd] = $fam == 10 ? *(uint64 *)uptr($sa + 16) : 0;\n    if (@_la[$fd] != 0) { delete(@_la[$fd]); }\n    if (@_ip[$fd] != 0) { delete(@_ip[$fd]); }\n    if (@_irem[$fd] != 0) { delete(@_irem[$fd]); }\n    if (@_wlx[$fd] != 0) { delete(@_wlx[$fd]); }\n    if (@_conning[$fd] != 0) { delete(@_conning[$fd]); }\n    @_h2n[$fd] = 1;\n  }\n}\n\n// Local addresses, as Envoy asks for them (accepted sockets, connected upstreams).\ntracepoint:syscalls:sys_enter_getsockname /pid == {{PID}}/\n{\n  @_gsa[tid] = (uint64)args->usockaddr;\n  @_gsn[tid] = (uint64)args->fd + 1;\n}\n\ntracepoint:syscalls:sys_exit_getsockname /pid == {{PID}} && @_gsn[tid] != 0/\n{\n  $fd = @_gsn[tid] - 1;\n  $sa = @_gsa[tid];\n  if (@_gsn[tid] != 0) { delete(@_gsn[tid]); }\n  if (@_gsa[tid] != 0) { delete(@_gsa[tid]); }\n  if (args->ret == 0) {\n    $fam = *(uint16 *)uptr($sa);\n    $port = *(uint16 *)uptr($sa + 2);\n    @_la[$fd] = ((uint64)$fam << 48) | ((uint64)$port << 32) | ($fam == 2 ? (uint64)*(uint32 *)uptr($sa + 4) : 0);\n    @_la6a[$fd] = $fam == 10 ? *(uint64 *)uptr($sa + 8) : 0;\n    @_la6b[$fd] = $fam == 10 ? *(uint64 *)uptr($sa + 16) : 0;\n    // A connect completes: the pool hands its client out next, on this thread.\n    if (@_conning[$fd] != 0) {\n      if (@_conning[$fd] != 0) { delete(@_conning[$fd]); }\n      @_gsfd[tid] = $fd + 1;\n    }\n  }\n}\n\n// HttpConnPoolImplBase::onPoolReady(ActiveClient&, AttachContext&): which connection\n// (ActiveClient) the upstream request called next on this thread gets.\nuprobe:{{BINARY}}:_ZN5Envoy4Http20HttpConnPoolImplBase11onPoolReadyERNS_14ConnectionPool12ActiveClientERNS2_13AttachContextE /pid == {{PID}}/\n{\n  $a1 = arg1;\n  if (@_gsfd[tid] != 0) {\n    @_clfd[$a1] = @_gsfd[tid];\n    if (@_gsfd[tid] != 0) { delete(@_gsfd[tid]); }\n  }\n  @_pcl[tid] = $a1;\n}\n\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest11onPoolReadyE* /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $cl = @_pcl[tid];\n  if (@_pcl[tid] != 0) { delete(@_pcl[tid]); }\n  $k = @_ur[$this];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    $fd1 = @_clfd[$cl];\n    if ($cl != 0) {\n      @_urcl[$this] = $cl;\n    }\n    if ($fd1 != 0) {\n      @_urfd[$this] = $fd1;\n    }\n    $fd = (int64)$fd1 - 1;\n    $end = @_urend[$this];\n    // Map lookups stay out of ?: (bpftrace 0.23.2 yields 0 for a map read in a ?: branch).\n    $wlx = (uint64)0; $pa = (uint64)0; $pa6a = (uint64)0; $pa6b = (uint64)0; $la = (uint64)0; $la6a = (uint64)0; $la6b = (uint64)0;\n    if ($fd1 != 0) {\n      @_ip[$fd1 - 1] = 1;\n      @_dn[$fd1 - 1] = 1;\n      @_cap[$fd1 - 1] = $rid;\n      $wlx = @_wlx[$fd1 - 1]; $pa = @_pa[$fd1 - 1]; $pa6a = @_pa6a[$fd1 - 1]; $pa6b = @_pa6b[$fd1 - 1];\n      $la = @_la[$fd1 - 1]; $la6a = @_la6a[$fd1 - 1]; $la6b = @_la6b[$fd1 - 1];\n    }\n    printf(\"P %d %d %lu %ld %lu %d %lu %lx %lx %lx %lx %lx %lx\\n\", $rid >> 32, $rid & 0xffffffff, $now, $fd, @_round[tid], $end, $wlx, $pa, $pa6a, $pa6b, $la, $la6a, $la6b);\n    @_lr[$k] = @_round[tid];\n  }\n}\n\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest10encodeDataERNS_6Buffer8InstanceEb,\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest20acceptDataFromRouterERNS_6Buffer8InstanceEb\n/pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $a2 = arg2;\n  $k = @_ur[$this];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    $fd1 = @_urfd[$this];\n    $end = $a2 & 1;\n    if ($end) {\n      @_urend[$this] = 1;\n    }\n    if ($fd1 != 0) {\n      @_ip[$fd1 - 1] = 1;\n    }\n    if ($fd1 != 0 && ($end || @_lr[$k] != @_round[tid])) {\n      @_lr[$k] = @_round[tid];\n      printf(\"I %d %d %lu %ld %lu %d %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, (int64)$fd1 - 1, @_round[tid], $end, @_wlx[$fd1 - 1]);\n    }\n  }\n}\n\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest13onPoolFailureE* /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $k = @_ur[$this];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    @_lr[$k] = @_round[tid];\n    printf(\"F %d %d %lu 1 %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n  }\n}\n\nuprobe:{{BINARY}}:_ZN5Envoy6Router6Filter17onResponseTimeoutEv /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $k = @_rf[$this];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    @_lr[$k] = @_round[tid];\n    printf(\"F %d %d %lu 2 %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n  }\n}\n\n// Router::Filter::doRetry(bool, bool, TimeoutRetry) (Envoy < 1.20: doRetry()): the retry\n// backoff's timer, a later wake-up, starts the next upstream request; linked here as\n// decodeHeaders links the first. Optional: where absent (or inlined), a retry's upstream\n// request is not followed and the record keeps the first try's. Newer Envoy with an\n// asynchronous load balancer may start it later (continueDoRetry): not followed either.\nuprobe:{{BINARY}}:_ZN5Envoy6Router6Filter7doRetryE* /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $k = @_rf[$this];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    @_urlink[tid] = $k;\n    // The upstream request it starts replaces the earlier try (acceptHeadersFromRouter).\n    @_urretry[tid] = $k;\n    @_lr[$k] = @_round[tid];\n    printf(\"Y %d %d %lu %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n  } else {\n    // An untraced request's retry: its upstream request is linked to no traced one.\n    if (@_urlink[tid] != 0) { delete(@_urlink[tid]); }\n    if (@_urretry[tid] != 0) { delete(@_urretry[tid]); }\n  }\n}\n\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest13onResetStreamE* /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $k = @_ur[$this];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    @_lr[$k] = @_round[tid];\n    printf(\"F %d %d %lu 3 %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n  }\n}\n\n// UpstreamRequest::resetStream(): the router gives up on an upstream request in flight\n// (the downstream reset its stream or closed, or a timeout), or ends one that answered\n// before the request's end (Router::Filter::onUpstreamComplete); never called for one whose\n// request and response both completed, so it costs other requests nothing. Optional: left\n// out where absent.\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest11resetStreamEv /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $k = @_ur[$this];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    printf(\"X %d %d %lu %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n  }\n}\n\n// ConnectionManagerImpl::ActiveStream::onResetStream(StreamResetReason, string_view): the\n// downstream stream is reset (the client's RST_STREAM, its connection closed, or a local\n// reset), wherever the request is, even still in a decoder filter (ext_authz) before the\n// router. Called only for resets, so it costs other requests nothing; also for a stream\n// whose response completed while its request body was still coming (doEndStream's local\n// reset, reason 0), which the agent keeps as recorded however long the response's writes\n// take. Optional: left out where absent. Its FilterManager is a member of the\n// ActiveStream: the first traced one in the 2 KiB from `this`, if one of its first 8\n// words is its back-reference (FilterManager::filter_manager_callbacks_) into this\n// ActiveStream's bases (its first 512 bytes). Found first when this stream is traced\n// (its own comes before the next object's); a traced neighbour's found instead points\n// into its own ActiveStream, beyond them, and is no match.\nuprobe:{{BINARY}}:_ZN5Envoy4Http21ConnectionManagerImpl12ActiveStream13onResetStreamE* /pid == {{PID}}/\n{\n  $now = nsecs;\n  $as = (uint64)arg0;\n  $reason = arg1;\n  // The stream that ended last on this thread (see doDeferredStreamDestroy).\n  $ef = @_endfm[tid];\n  if ($ef != 0) {\n    if (@_fm[$ef] == @_endrid[tid]) {\n      delete(@_fm[$ef]);\n      if (@_fd[$ef] != 0) { delete(@_fd[$ef]); }\n      if (@_lr[$ef] != 0) { delete(@_lr[$ef]); }\n      $erf = @_fmrf[$ef];\n      if ($erf != 0 && @_rf[$erf] == $ef) { delete(@_rf[$erf]); }\n      $eur = @_fmur[$ef];\n      if ($eur != 0 && @_ur[$eur] == $ef) {\n        delete(@_ur[$eur]);\n        if (@_urfd[$eur] != 0) { delete(@_urfd[$eur]); }\n        if (@_urend[$eur] != 0) { delete(@_urend[$eur]); }\n        if (@_urcl[$eur] != 0) { delete(@_urcl[$eur]); }\n      }\n      if (@_fmrf[$ef] != 0) { delete(@_fmrf[$ef]); }\n      if (@_fmur[$ef] != 0) { delete(@_fmur[$ef]); }\n      // Its filters (see the per-filter probes), each while it still maps to this request.\n      $efn = @_fln[$ef];\n      if ($efn != 0) {\n        $erid = @_endrid[tid];\n        $efl = @_fl0[$ef];\n        if ($efl != 0) {\n          if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n          delete(@_fl0[$ef]);\n        }\n        if ($efn > 1) {\n          $efl = @_fl1[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl1[$ef]);\n          }\n        }\n        if ($efn > 2) {\n          $efl = @_fl2[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl2[$ef]);\n          }\n        }\n        if ($efn > 3) {\n          $efl = @_fl3[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl3[$ef]);\n          }\n        }\n        if ($efn > 4) {\n          $efl = @_fl4[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl4[$ef]);\n          }\n        }\n        if ($efn > 5) {\n          $efl = @_fl5[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl5[$ef]);\n          }\n        }\n        if ($efn > 6) {\n          $efl = @_fl6[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl6[$ef]);\n          }\n        }\n        if ($efn > 7) {\n          $efl = @_fl7[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl7[$ef]);\n          }\n        }\n        delete(@_fln[$ef]);\n      }\n    }\n    delete(@_endfm[tid]);\n    if (@_endrid[tid] != 0) { delete(@_endrid[tid]); }\n  }\n  // Where the stream-destroy probe learned the FilterManager's offset, it is used alone.\n  $i = (uint64)1;\n  $f = (uint64)0;\n  if (@_fmoff != 0) {\n    $i = 256;\n    $f = $as + @_fmoff;\n  }\n  while ($i < 256) {\n    if (@_fm[$as + 8 * $i] != 0) {\n      $f = $as + 8 * $i;\n      break;\n    }\n    $i = $i + 1;\n  }\n  $fm = (uint64)0;\n  if ($f != 0) {\n    $j = (uint64)0;\n    unroll(8) {\n      $v = *(uint64 *)uptr($f + 8 * $j);\n      if ($v >= $as && $v < $as + 512) {\n        $fm = $f;\n      }\n      $j = $j + 1;\n    }\n  }\n  $rid = @_fm[$fm];\n  if ($rid != 0) {\n    @_lr[$fm] = @_round[tid];\n    printf(\"D %d %d %lu %d %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, $reason & 0xffffffff, @_round[tid]);\n  }\n}\n\n// ConnectionManagerImpl::doDeferredStreamDestroy(ActiveStream&): the stream is done for\n// good (after its last onResetStream); its filters are destroyed next (the router then\n// resets an upstream request still in flight: X) and the ActiveStream is freed after this\n// wake-up round. Its request's entries are deleted at the next wake-up, stream end or\n// reset on this thread, after those events (only if the FilterManager still holds this\n// request's id: a new stream there keeps its own). The FilterManager is found at the\n// offset learned from the first traced stream that ends (the same scan as onResetStream's,\n// done only until then and only once a request was traced), then with one lookup.\n// Optional: where absent (or where Envoy inlined it), entries go only when their address\n// is reused, as before.\nuprobe:{{BINARY}}:_ZN5Envoy4Http21ConnectionManagerImpl23doDeferredStreamDestroyERNS1_12ActiveStreamE /pid == {{PID}}/\n{\n  $as = (uint64)arg1;\n  // The stream that ended last on this thread (see doDeferredStreamDestroy).\n  $ef = @_endfm[tid];\n  if ($ef != 0) {\n    if (@_fm[$ef] == @_endrid[tid]) {\n      delete(@_fm[$ef]);\n      if (@_fd[$ef] != 0) { delete(@_fd[$ef]); }\n      if (@_lr[$ef] != 0) { delete(@_lr[$ef]); }\n      $erf = @_fmrf[$ef];\n      if ($erf != 0 && @_rf[$erf] == $ef) { delete(@_rf[$erf]); }\n      $eur = @_fmur[$ef];\n      if ($eur != 0 && @_ur[$eur] == $ef) {\n        delete(@_ur[$eur]);\n        if (@_urfd[$eur] != 0) { delete(@_urfd[$eur]); }\n        if (@_urend[$eur] != 0) { delete(@_urend[$eur]); }\n        if (@_urcl[$eur] != 0) { delete(@_urcl[$eur]); }\n      }\n      if (@_fmrf[$ef] != 0) { delete(@_fmrf[$ef]); }\n      if (@_fmur[$ef] != 0) { delete(@_fmur[$ef]); }\n      // Its filters (see the per-filter probes), each while it still maps to this request.\n      $efn = @_fln[$ef];\n      if ($efn != 0) {\n        $erid = @_endrid[tid];\n        $efl = @_fl0[$ef];\n        if ($efl != 0) {\n          if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n          delete(@_fl0[$ef]);\n        }\n        if ($efn > 1) {\n          $efl = @_fl1[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl1[$ef]);\n          }\n        }\n        if ($efn > 2) {\n          $efl = @_fl2[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl2[$ef]);\n          }\n        }\n        if ($efn > 3) {\n          $efl = @_fl3[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl3[$ef]);\n          }\n        }\n        if ($efn > 4) {\n          $efl = @_fl4[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl4[$ef]);\n          }\n        }\n        if ($efn > 5) {\n          $efl = @_fl5[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl5[$ef]);\n          }\n        }\n        if ($efn > 6) {\n          $efl = @_fl6[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl6[$ef]);\n          }\n        }\n        if ($efn > 7) {\n          $efl = @_fl7[$ef];\n          if ($efl != 0) {\n            if (@_flt[$efl] == $erid) { delete(@_flt[$efl]); }\n            delete(@_fl7[$ef]);\n          }\n        }\n        delete(@_fln[$ef]);\n      }\n    }\n    delete(@_endfm[tid]);\n    if (@_endrid[tid] != 0) { delete(@_endrid[tid]); }\n  }\n  $fm = (uint64)0;\n  if (@_fmoff != 0) {\n    $fm = $as + @_fmoff;\n  } else if (@_traced != 0) {\n    $i = (uint64)1;\n    $f = (uint64)0;\n    while ($i < 256) {\n      if (@_fm[$as + 8 * $i] != 0) {\n        $f = $as + 8 * $i;\n        break;\n      }\n      $i = $i + 1;\n    }\n    if ($f != 0) {\n      $j = (uint64)0;\n      unroll(8) {\n        $v = *(uint64 *)uptr($f + 8 * $j);\n        if ($v >= $as && $v < $as + 512) {\n          $fm = $f;\n        }\n        $j = $j + 1;\n      }\n    }\n    if ($fm != 0) {\n      @_fmoff = $fm - $as;\n    }\n  }\n  $rid = @_fm[$fm];\n  if ($rid != 0) {\n    @_endfm[tid] = $fm;\n    @_endrid[tid] = $rid;\n  }\n}\n\n// The upstream's response headers, parsed from the read batch just dispatched.\nuprobe:{{BINARY}}:_ZN5Envoy6Router15UpstreamRequest13decodeHeadersE* /pid == {{PID}}/\n{\n  $this = arg0;\n  $k = @_ur[$this];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    $fd1 = @_rfd[tid];\n    if ($fd1 != 0 && @_urcl[$this] != 0) {\n      @_clfd[@_urcl[$this]] = $fd1;\n    }\n    @_lr[$k] = @_round[tid];\n    printf(\"U %d %d %lu %ld %lu\\n\", $rid >> 32, $rid & 0xffffffff, @_rs[tid], (int64)$fd1 - 1, @_round[tid]);\n  }\n}\n\n// ---- the response through the encoder filters to the downstream connection ----\nuprobe:{{BINARY}}:_ZN5Envoy4Http13FilterManager13encodeHeadersEPNS0_25ActiveStreamEncoderFilterERNS0_17ResponseHeaderMapEb /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $a1 = arg1;\n  $a3 = arg3;\n  $rid = @_fm[$this];\n  @_cur[tid] = $rid != 0 ? $this : 0;\n  if ($rid != 0) {\n    $fd = @_fd[$this];\n    @_ip[$fd] = 1;\n    if ($a1 == 0) {\n      @_lr[$this] = @_round[tid];\n      printf(\"H %d %d %lu %ld %lu %d %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, $fd, @_round[tid], $a3 & 1, @_wlx[$fd]);\n    } else if (($a3 & 1) || @_lr[$this] != @_round[tid]) {\n      // A stopped encoder chain resumes.\n      @_lr[$this] = @_round[tid];\n      printf(\"O %d %d %lu %ld %lu %d %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, $fd, @_round[tid], $a3 & 1, @_wlx[$fd]);\n    }\n  }\n}\n\nuprobe:{{BINARY}}:_ZN5Envoy4Http13FilterManager10encodeDataEPNS0_25ActiveStreamEncoderFilterERNS_6Buffer8InstanceEbNS1_25FilterIterationStartStateE /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $a3 = arg3;\n  $rid = @_fm[$this];\n  @_cur[tid] = $rid != 0 ? $this : 0;\n  if ($rid != 0) {\n    $fd = @_fd[$this];\n    @_ip[$fd] = 1;\n    if (($a3 & 1) || @_lr[$this] != @_round[tid]) {\n      @_lr[$this] = @_round[tid];\n      printf(\"O %d %d %lu %ld %lu %d %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, $fd, @_round[tid], $a3 & 1, @_wlx[$fd]);\n    }\n  }\n}\n\n// FilterManager::encodeTrailers(ActiveStreamEncoderFilter*, ResponseTrailerMap&): the\n// response's trailers enter the encoder chain and end it (gRPC: headers, data, then\n// trailers; the data had no end). Envoy calls it only for a response with trailers (an\n// upstream's, or ones a filter added), so it costs other requests nothing; an untraced one\n// pays this uprobe and one map lookup. Optional: left out where absent (where a response\n// with trailers gets no end, and ends as aborted or timeout, as before).\nuprobe:{{BINARY}}:_ZN5Envoy4Http13FilterManager14encodeTrailersEPNS0_25ActiveStreamEncoderFilterERNS0_18ResponseTrailerMapE /pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $rid = @_fm[$this];\n  if ($rid != 0) {\n    $fd = @_fd[$this];\n    @_ip[$fd] = 1;\n    @_lr[$this] = @_round[tid];\n    printf(\"E %d %d %lu %ld %lu %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, $fd, @_round[tid], @_wlx[$fd]);\n  }\n}\n\n// ---- per-filter calls (rendered only when envoy-http-filters runs beside) ----\n// Each HTTP filter's decodeHeaders/decodeData/encodeHeaders/encodeData runs inside a\n// FilterManager call on this thread; `this` is the filter, one per request. @_flt[filter]\n// = the traced request's id, for ExtAuthz::Filter::onComplete (A). A request's first 8\n// filters are listed in @_fl0..@_fl7[FilterManager] (@_fln = how many) so that its\n// stream's end deletes their entries (a probe cannot walk a map); a 9th and later filter\n// gets no entry, so that nothing is left behind: its callbacks still print (L needs no\n// entry), only an ext_authz that late in the chain would lose its A. Untraced requests\n// only delete an entry left at their filter's address.\nuprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb,\nuprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb,\nuprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb,\nuprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb\n/pid == {{PID}}/\n{\n  $now = nsecs;\n  $this = arg0;\n  $k = @_cur[tid];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    // Listed once per request (a filter has up to 4 callbacks).\n    if (@_flt[$this] != $rid) {\n      $n = @_fln[$k];\n      if ($n < 8) {\n        @_flt[$this] = $rid;\n        if ($n == 0) { @_fl0[$k] = $this; }\n        if ($n == 1) { @_fl1[$k] = $this; }\n        if ($n == 2) { @_fl2[$k] = $this; }\n        if ($n == 3) { @_fl3[$k] = $this; }\n        if ($n == 4) { @_fl4[$k] = $this; }\n        if ($n == 5) { @_fl5[$k] = $this; }\n        if ($n == 6) { @_fl6[$k] = $this; }\n        if ($n == 7) { @_fl7[$k] = $this; }\n        @_fln[$k] = $n + 1;\n      }\n    }\n    @_fent[tid] = $now;\n  } else {\n    if (@_flt[$this] != 0) { delete(@_flt[$this]); }\n    if (@_fent[tid] != 0) { delete(@_fent[tid]); }\n  }\n}\n\nuretprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters*13decodeHeadersERNS_4Http16RequestHeaderMapEb,\nuretprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters*10decodeDataERNS_6Buffer8InstanceEb,\nuretprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters*13encodeHeadersERNS_4Http17ResponseHeaderMapEb,\nuretprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters*10encodeDataERNS_6Buffer8InstanceEb\n/pid == {{PID}} && @_fent[tid] != 0/\n{\n  $now = nsecs;\n  $k = @_cur[tid];\n  $rid = @_fm[$k];\n  if ($rid != 0) {\n    printf(\"L %d %d %lu %lu %s %lu\\n\", $rid >> 32, $rid & 0xffffffff, @_fent[tid], $now, probe, @_round[tid]);\n  }\n  if (@_fent[tid] != 0) { delete(@_fent[tid]); }\n}\n\n// ExtAuthz::Filter::onComplete(ResponsePtr&&): the authorization check answered; the\n// chain resumes from here (a later wake-up).\nuprobe:{{BINARY}}:_ZN5Envoy10Extensions11HttpFilters8ExtAuthz6Filter10onCompleteE* /pid == {{PID}}/\n{\n  $now = nsecs;\n  $rid = @_flt[arg0];\n  if ($rid != 0) {\n    printf(\"A %d %d %lu %lu\\n\", $rid >> 32, $rid & 0xffffffff, $now, @_round[tid]);\n  }\n}\n\n// ---- writes: every socket keeps its last drained write; sockets a traced request waits\n// on print their writes until the bytes queued when it last waited are written ----\n// @_wst[tid] = fd + 1 | 1 << 23 when the write is printed | byte count << 24.\ntracepoint:syscalls:sys_enter_write /pid == {{PID}}/\n{\n  $now = nsecs;\n  $fd = (uint64)args->fd;\n  $watch = (uint64)(@_ip[$fd] != 0 || @_irem[$fd] > 0);\n  @_wst[tid] = ($fd + 1) | ((uint64)$watch << 23) | ((uint64)args->count << 24);\n  if ($watch) {\n    @_wts[tid] = $now;\n    @_wbuf[tid] = (uint64)args->buf;\n  }\n}\n\ntracepoint:syscalls:sys_enter_sendto /pid == {{PID}}/\n{\n  $now = nsecs;\n  $fd = (uint64)args->fd;\n  $watch = (uint64)(@_ip[$fd] != 0 || @_irem[$fd] > 0);\n  @_wst[tid] = ($fd + 1) | ((uint64)$watch << 23) | ((uint64)args->len << 24);\n  if ($watch) {\n    @_wts[tid] = $now;\n    @_wbuf[tid] = (uint64)args->buff;\n  }\n}\n\n// writev: the byte count is the sum of the first 8 iovecs (Envoy writes at most 16\n// slices; a larger write is only ever partly counted, which ends its interest early).\ntracepoint:syscalls:sys_enter_writev /pid == {{PID}}/\n{\n  $now = nsecs;\n  $fd = (uint64)args->fd;\n  $v = (uint64)args->vec;\n  $n = (uint64)0;\n  $i = (uint64)0;\n  unroll(8) {\n    if ($i < args->vlen) {\n      $n = $n + *(uint64 *)uptr($v + 16 * $i + 8);\n    }\n    $i = $i + 1;\n  }\n  $watch = (uint64)(@_ip[$fd] != 0 || @_irem[$fd] > 0);\n  @_wst[tid] = ($fd + 1) | ((uint64)$watch << 23) | ($n << 24);\n  if ($watch) {\n    @_wts[tid] = $now;\n    @_wbuf[tid] = *(uint64 *)uptr($v);\n  }\n}\n\ntracepoint:syscalls:sys_exit_write,\ntracepoint:syscalls:sys_exit_writev,\ntracepoint:syscalls:sys_exit_sendto\n/pid == {{PID}} && @_wst[tid] != 0/\n{\n  $now = nsecs;\n  $st = @_wst[tid];\n  if (@_wst[tid] != 0) { delete(@_wst[tid]); }\n  $fd = ($st & 0x7fffff) - 1;\n  $count = (int64)($st >> 24);\n  $ret = args->ret;\n  @_wlx[$fd] = $ret == $count ? $now : 0;\n  if ($st & (1 << 23)) {\n    $t0 = @_wts[tid];\n    if (@_ip[$fd] != 0) {\n      if (@_ip[$fd] != 0) { delete(@_ip[$fd]); }\n      if ($count > @_irem[$fd]) {\n        @_irem[$fd] = $count;\n      }\n    }\n    printf(\"T %d %ld %lu %lu %ld %ld %lu\\n\", tid, $fd, $t0, $now, $count, $ret, @_round[tid]);\n    if ($ret > 0) {\n      @_irem[$fd] = @_irem[$fd] - $ret;\n    }\n    // The first bytes an upstream request sends (HTTP/1.1: its head, x-request-id).\n    $rid = @_cap[$fd];\n    if ($rid != 0 && $ret > 0) {\n      if (@_cap[$fd] != 0) { delete(@_cap[$fd]); }\n      $b = @_wbuf[tid];\n      $n = $ret;\n      if ($n > 512) { $n = 512; }\n      $l0 = $n; if ($l0 > 64) { $l0 = 64; }\n      $l1 = $n - 64; if ($l1 < 0) { $l1 = 0; } if ($l1 > 64) { $l1 = 64; }\n      $l2 = $n - 128; if ($l2 < 0) { $l2 = 0; } if ($l2 > 64) { $l2 = 64; }\n      $l3 = $n - 192; if ($l3 < 0) { $l3 = 0; } if ($l3 > 64) { $l3 = 64; }\n      printf(\"K %d %d 2 %r%r%r%r\\n\", $rid >> 32, $rid & 0xffffffff, buf(uptr($b), $l0), buf(uptr($b + 64), $l1), buf(uptr($b + 128), $l2), buf(uptr($b + 192), $l3));\n      if ($n > 256) {\n        $l4 = $n - 256; if ($l4 > 64) { $l4 = 64; }\n        $l5 = $n - 320; if ($l5 < 0) { $l5 = 0; } if ($l5 > 64) { $l5 = 64; }\n        $l6 = $n - 384; if ($l6 < 0) { $l6 = 0; } if ($l6 > 64) { $l6 = 64; }\n        $l7 = $n - 448; if ($l7 < 0) { $l7 = 0; } if ($l7 > 64) { $l7 = 64; }\n        printf(\"K %d %d 3 %r%r%r%r\\n\", $rid >> 32, $rid & 0xffffffff, buf(uptr($b + 256), $l4), buf(uptr($b + 320), $l5), buf(uptr($b + 384), $l6), buf(uptr($b + 448), $l7));\n      }\n    }\n  }\n}\n\ntracepoint:syscalls:sys_enter_close /pid == {{PID}}/\n{\n  $now = nsecs;\n  $fd = (uint64)args->fd;\n  if (@_ip[$fd] != 0 || @_irem[$fd] > 0 || @_dn[$fd] != 0) {\n    printf(\"Z %d %ld %lu\\n\", tid, $fd, $now);\n  }\n  if (@_dn[$fd] != 0) { delete(@_dn[$fd]); }\n  if (@_ip[$fd] != 0) { delete(@_ip[$fd]); }\n  if (@_irem[$fd] != 0) { delete(@_irem[$fd]); }\n  if (@_cap[$fd] != 0) { delete(@_cap[$fd]); }\n}\n\ninterval:s:{{INTERVAL}}\n{\n  print(@trace_requests);\n  print(@trace_sampled);\n  print(@trace_rate_limited);\n}\n\nEND\n{\n  clear(@_win);\n  clear(@_taken);\n  clear(@_round);\n  clear(@_rfd);\n  clear(@_rs);\n  clear(@_re);\n  clear(@_rcap);\n  clear(@_rbuf);\n  clear(@_disp);\n  clear(@_mark);\n  clear(@_upfm);\n  clear(@_h2n);\n  clear(@_seq);\n  clear(@_fm);\n  clear(@_fd);\n  clear(@_fmrf);\n  clear(@_fmur);\n  clear(@_endfm);\n  clear(@_endrid);\n  clear(@_fmoff);\n  clear(@_traced);\n  clear(@_lr);\n  clear(@_cur);\n  clear(@_rf);\n  clear(@_urlink);\n  clear(@_urretry);\n  clear(@_ur);\n  clear(@_urfd);\n  clear(@_urend);\n  clear(@_urctx);\n  clear(@_urcl);\n  clear(@_pa);\n  clear(@_pa6a);\n  clear(@_pa6b);\n  clear(@_la);\n  clear(@_la6a);\n  clear(@_la6b);\n  clear(@_conning);\n  clear(@_acc);\n  clear(@_gsa);\n  clear(@_gsn);\n  clear(@_gsfd);\n  clear(@_clfd);\n  clear(@_pcl);\n  clear(@_dn);\n  clear(@_ip);\n  clear(@_irem);\n  clear(@_cap);\n  clear(@_wlx);\n  clear(@_wst);\n  clear(@_wts);\n  clear(@_wbuf);\n  clear(@_fent);\n  clear(@_flt);\n  clear(@_fln);\n  clear(@_fl0);\n  clear(@_fl1);\n  clear(@_fl2);\n  clear(@_fl3);\n  clear(@_fl4);\n  clear(@_fl5);\n  clear(@_fl6);\n  clear(@_fl7);\n}\n",
    "bodyStart": 6531
  },
  {
    "header": {
      "name": "envoy-socket-io",
      "purpose": "Envoy's read/readv/recvfrom and write/writev/sendto system calls - bytes per call, call latency and total bytes, by direction.",
      "requires": [
        "tracepoint:syscalls:sys_enter_read",
        "tracepoint:syscalls:sys_enter_readv",
        "tracepoint:syscalls:sys_enter_recvfrom",
        "tracepoint:syscalls:sys_enter_write",
        "tracepoint:syscalls:sys_enter_writev",
        "tracepoint:syscalls:sys_enter_sendto",
        "tracepoint:syscalls:sys_exit_read",
        "tracepoint:syscalls:sys_exit_readv",
        "tracepoint:syscalls:sys_exit_recvfrom",
        "tracepoint:syscalls:sys_exit_write",
        "tracepoint:syscalls:sys_exit_writev",
        "tracepoint:syscalls:sys_exit_sendto"
      ],
      "maps": [
        {
          "name": "@io_bytes",
          "kind": "hist",
          "unit": "bytes",
          "metric": "socket_io_call",
          "meaning": "bytes moved per successful call (direction read or write; 0 is end of file)",
          "keys": [
            "direction"
          ]
        },
        {
          "name": "@io_latency_ns",
          "kind": "hist",
          "unit": "ns",
          "metric": "socket_io_call_duration",
          "meaning": "time spent in each call, failed ones included",
          "keys": [
            "direction"
          ]
        },
        {
          "name": "@io_bytes_total",
          "kind": "sum",
          "unit": "bytes",
          "metric": "socket_io",
          "meaning": "bytes moved in the interval",
          "keys": [
            "direction"
          ]
        },
        {
          "name": "@io_errors",
          "kind": "count",
          "unit": "count",
          "metric": "socket_io_errors",
          "meaning": "calls that failed (mostly EAGAIN at the end of a non-blocking read or write)",
          "keys": [
            "direction"
          ]
        }
      ],
      "minBpftrace": "0.17",
      "default": false
    },
    "source": "/* hookpoint\nname: envoy-socket-io\npurpose: Envoy's read/readv/recvfrom and write/writev/sendto system calls - bytes per call, call latency and total bytes, by direction.\nrequires:\n  - tracepoint:syscalls:sys_enter_read\n  - tracepoint:syscalls:sys_enter_readv\n  - tracepoint:syscalls:sys_enter_recvfrom\n  - tracepoint:syscalls:sys_enter_write\n  - tracepoint:syscalls:sys_enter_writev\n  - tracepoint:syscalls:sys_enter_sendto\n  - tracepoint:syscalls:sys_exit_read\n  - tracepoint:syscalls:sys_exit_readv\n  - tracepoint:syscalls:sys_exit_recvfrom\n  - tracepoint:syscalls:sys_exit_write\n  - tracepoint:syscalls:sys_exit_writev\n  - tracepoint:syscalls:sys_exit_sendto\nmaps:\n  - name: \"@io_bytes\"\n    kind: hist\n    unit: bytes\n    metric: socket_io_call\n    keys: [direction]\n    meaning: bytes moved per successful call (direction read or write; 0 is end of file)\n  - name: \"@io_latency_ns\"\n    kind: hist\n    unit: ns\n    metric: socket_io_call_duration\n    keys: [direction]\n    meaning: time spent in each call, failed ones included\n  - name: \"@io_bytes_total\"\n    kind: sum\n    unit: bytes\n    metric: socket_io\n    keys: [direction]\n    meaning: bytes moved in the interval\n  - name: \"@io_errors\"\n    kind: count\n    unit: count\n    metric: socket_io_errors\n    keys: [direction]\n    meaning: calls that failed (mostly EAGAIN at the end of a non-blocking read or write)\nminBpftrace: \"0.17\"\ndefault: false\n*/\n// System calls on every file descriptor of the Envoy process, sockets above all (also\n// the eventfd that wakes a dispatcher, 8 bytes a time). The tracepoints fire for every\n// process on the node; the pid predicate keeps Envoy's.\n\ntracepoint:syscalls:sys_enter_read,\ntracepoint:syscalls:sys_enter_readv,\ntracepoint:syscalls:sys_enter_recvfrom,\ntracepoint:syscalls:sys_enter_write,\ntracepoint:syscalls:sys_enter_writev,\ntracepoint:syscalls:sys_enter_sendto\n/pid == {{PID}}/\n{\n  @_entered[tid] = nsecs;\n}\n\ntracepoint:syscalls:sys_exit_read,\ntracepoint:syscalls:sys_exit_readv,\ntracepoint:syscalls:sys_exit_recvfrom\n/pid == {{PID}} && @_entered[tid] != 0/\n{\n  @io_latency_ns[\"read\"] = hist(nsecs - @_entered[tid]);\n  delete(@_entered[tid]);\n  if (args->ret >= 0) {\n    @io_bytes[\"read\"] = hist(args->ret);\n    @io_bytes_total[\"read\"] = sum(args->ret);\n  } else {\n    @io_errors[\"read\"] = count();\n  }\n}\n\ntracepoint:syscalls:sys_exit_write,\ntracepoint:syscalls:sys_exit_writev,\ntracepoint:syscalls:sys_exit_sendto\n/pid == {{PID}} && @_entered[tid] != 0/\n{\n  @io_latency_ns[\"write\"] = hist(nsecs - @_entered[tid]);\n  delete(@_entered[tid]);\n  if (args->ret >= 0) {\n    @io_bytes[\"write\"] = hist(args->ret);\n    @io_bytes_total[\"write\"] = sum(args->ret);\n  } else {\n    @io_errors[\"write\"] = count();\n  }\n}\n\ninterval:s:{{INTERVAL}}\n{\n  print(@io_bytes);\n  print(@io_latency_ns);\n  print(@io_bytes_total);\n  print(@io_errors);\n}\n\nEND\n{\n  clear(@_entered);\n}\n",
    "bodyStart": 1408
  },
  {
    "header": {
      "name": "hookpoint-pairs",
      "purpose": "Modified Envoy - latency of every hookpoint<Name>Start/End pair (extern \"C\", global or C++ member functions), matched by their id argument, this, or both, and calls of lone hookpoint<Name> functions.",
      "requires": [
        "*hookpoint*"
      ],
      "maps": [
        {
          "name": "@hookpoint_latency_ns",
          "kind": "hist",
          "unit": "ns",
          "metric": "pairs_duration",
          "meaning": "time from hookpoint<Name>Start to hookpoint<Name>End with the same id (and this, for members) (pair = <Name>, or Class::<Name> for members)",
          "keys": [
            "pair"
          ]
        },
        {
          "name": "@hookpoint_unmatched_start",
          "kind": "count",
          "unit": "count",
          "metric": "pairs_unmatched_starts",
          "meaning": "starts whose id still had a pending start (that start's end never came; it is dropped)",
          "keys": [
            "pair"
          ]
        },
        {
          "name": "@hookpoint_unmatched_end",
          "kind": "count",
          "unit": "count",
          "metric": "pairs_unmatched_ends",
          "meaning": "ends with no pending start for their id (started before tracing began, or dropped)",
          "keys": [
            "pair"
          ]
        },
        {
          "name": "@hookpoint_calls",
          "kind": "count",
          "unit": "count",
          "metric": "calls",
          "meaning": "calls of each lone hookpoint<Name> function (one without a Start/End partner; function = <Name>, or Class::<Name>)",
          "keys": [
            "function"
          ]
        }
      ],
      "minBpftrace": "0.17",
      "default": true
    },
    "source": "/* hookpoint\nname: hookpoint-pairs\npurpose: Modified Envoy - latency of every hookpoint<Name>Start/End pair (extern \"C\", global or C++ member functions), matched by their id argument, this, or both, and calls of lone hookpoint<Name> functions.\nrequires:\n  - \"*hookpoint*\"\nmaps:\n  - name: \"@hookpoint_latency_ns\"\n    kind: hist\n    unit: ns\n    metric: pairs_duration\n    keys: [pair]\n    meaning: time from hookpoint<Name>Start to hookpoint<Name>End with the same id (and this, for members) (pair = <Name>, or Class::<Name> for members)\n  - name: \"@hookpoint_unmatched_start\"\n    kind: count\n    unit: count\n    metric: pairs_unmatched_starts\n    keys: [pair]\n    meaning: starts whose id still had a pending start (that start's end never came; it is dropped)\n  - name: \"@hookpoint_unmatched_end\"\n    kind: count\n    unit: count\n    metric: pairs_unmatched_ends\n    keys: [pair]\n    meaning: ends with no pending start for their id (started before tracing began, or dropped)\n  - name: \"@hookpoint_calls\"\n    kind: count\n    unit: count\n    metric: calls\n    keys: [function]\n    meaning: calls of each lone hookpoint<Name> function (one without a Start/End partner; function = <Name>, or Class::<Name>)\nminBpftrace: \"0.17\"\ndefault: true\n*/\n// Generated by the agent from the binary's own hookpoint* functions; bpf/hookpoint-pairs.bt\n// is the template: lines between \"hookpoint:each pair\" (or \"lone\") and \"hookpoint:end\"\n// repeat for each pair (or lone function), and \"hookpoint:if pair\" (or \"lone\") keeps its\n// lines once when there is at least one. Pending starts are keyed by what identifies one\n// interval (the id argument; `this` and the id, or `this` alone, for C++ members;\n// the thread for a global function without one), so interleaved requests on one thread, or\n// a request that moves between threads, still match. The longest pair name may end in \"\\0\"s:\n// they pad the maps' string key to a multiple of 8 bytes, which bpftrace 0.17 needs to store\n// a histogram's bucket where the kernel accepts it; the output stops at the first NUL.\n\n// hookpoint:each pair\nuprobe:{{BINARY}}:{{START}} /pid == {{PID}}/\n{\n  if (@_start_{{VAR}}[{{KEY}}] != 0) {\n    @hookpoint_unmatched_start[\"{{LABEL}}\"] = count();\n  }\n  @_start_{{VAR}}[{{KEY}}] = nsecs;\n}\n\nuprobe:{{BINARY}}:{{END}} /pid == {{PID}}/\n{\n  $start = @_start_{{VAR}}[{{KEY}}];\n  if ($start != 0) {\n    @hookpoint_latency_ns[\"{{LABEL}}\"] = hist(nsecs - $start);\n    delete(@_start_{{VAR}}[{{KEY}}]);\n  } else {\n    @hookpoint_unmatched_end[\"{{LABEL}}\"] = count();\n  }\n}\n\n// hookpoint:end\n\n// hookpoint:each lone\nuprobe:{{BINARY}}:{{SYMBOL}} /pid == {{PID}}/\n{\n  @hookpoint_calls[\"{{NAME}}\"] = count();\n}\n\n// hookpoint:end\n\ninterval:s:{{INTERVAL}}\n{\n// hookpoint:if pair\n  print(@hookpoint_latency_ns);\n  print(@hookpoint_unmatched_start);\n  print(@hookpoint_unmatched_end);\n// hookpoint:end\n// hookpoint:if lone\n  print(@hookpoint_calls);\n// hookpoint:end\n}\n\n// Pending starts are state, not output: without this bpftrace would print them at exit.\nEND\n{\n// hookpoint:each pair\n  clear(@_start_{{VAR}});\n// hookpoint:end\n}\n",
    "bodyStart": 1239
  },
];
