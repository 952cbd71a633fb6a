"""The dashboard's Jinja2 templates (autoescaped) and the stylesheet it adds to the report's.

Kept as strings in a module so the package needs no data files; ``pages``
loads them with a ``DictLoader``.
"""

from __future__ import annotations

#: Layout the dashboard adds to the HTML report's stylesheet (``assets.CSS``).
CSS = """
nav.crumbs { max-width: 1240px; margin: 0 auto; padding: 10px 16px 0; font-size: 0.92rem;
  color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 8px; }
nav.crumbs a { white-space: nowrap; }
nav.crumbs span.sep { color: var(--line); }
table.runs { font-size: 0.92rem; }
table.runs th { text-align: left; font-weight: 600; color: var(--muted);
  border-bottom: 2px solid var(--line); padding: 6px 8px; white-space: nowrap; }
table.runs td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.runs td.branch, table.runs td.name { overflow-wrap: anywhere; }
.status.small { font-size: 0.82rem; padding: 0 8px; }
.filters a.chip { display: inline-block; padding: 2px 10px; border: 1px solid #8a939d;
  border-radius: 999px; text-decoration: none; overflow-wrap: anywhere; }
.filters a.chip.on { background: var(--blue); border-color: var(--blue); color: #fff; }
.filters .label { color: var(--muted); font-weight: 600; }
.pager { margin: 12px 0; }
ul.metrics { columns: 2 28em; padding-left: 1.2em; overflow-wrap: anywhere; }
.compare { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 12px;
  margin: 10px 0; }
.compare section { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.compare h3 { margin: 0 0 6px; }
figure.card.wide { max-width: 760px; }
@media (max-width: 720px) {
  nav.crumbs { padding: 8px 10px 0; }
  table.runs thead { position: absolute; width: 1px; height: 1px; overflow: hidden;
    clip: rect(0 0 0 0); }
  table.runs, table.runs tbody, table.runs tr, table.runs td { display: block; }
  table.runs tr { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 10px;
    padding: 4px 0; }
  table.runs td { border: 0; padding: 2px 10px; }
  table.runs td[data-label]::before { content: attr(data-label) ": "; color: var(--muted);
    font-weight: 600; }
}
"""

_BASE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{ urls.asset('report.css') }}">
<link rel="stylesheet" href="{{ urls.asset('dashboard.css') }}">
<script src="{{ urls.asset('errors.js') }}"></script>
</head>
<body>
<nav class="crumbs" aria-label="Breadcrumbs"><a href="{{ urls.home() }}">perfci</a>
{% block crumbs %}{% endblock %}
</nav>
{% block body %}{% endblock %}
<footer>perfci server dashboard. Hover or focus a chart mark for its run and value.</footer>
<output id="render-status" hidden></output>
<script src="{{ urls.asset('filter.js') }}"></script>
<script src="{{ urls.asset('status.js') }}"></script>
</body>
</html>
"""

_PROJECT_CRUMB = """<span class="sep">/</span>
<a href="{{ urls.project(project.name) }}">{{ project.name }}</a>
"""

_STATUS = """{% macro status(value) -%}
<span class="status small {{ value }}">{{ {'passed': '✓ PASSED', 'failed': '✗ FAILED'}.get(value,
 '! ERROR') }}</span>
{%- endmacro %}
"""

_RUN_ROWS = """{% from "macros.html" import status %}
{% macro run_rows(rows, project, urls, show_branch=True) %}
<div class="scroll"><table class="runs">
<thead><tr><th scope=col>Run</th><th scope=col>Status</th>{% if show_branch %}
<th scope=col>Branch</th>{% endif %}<th scope=col>Commit</th><th scope=col>PR</th>
<th scope=col>Started</th><th scope=col>Verdicts</th><th scope=col>CI</th></tr></thead>
<tbody>
{% for item in rows %}{% set r = item.row %}
<tr class="run run-{{ r.status }}">
<td data-label="Run"><a class="run-link" href="{{ urls.run(project.name, r.id) }}">#{{ r.id
 }}</a></td>
<td data-label="Status">{{ status(r.status) }}</td>
{% if show_branch %}<td class="branch" data-label="Branch">{% if r.branch %}<a href="{{
 urls.project(project.name, branch=r.branch) }}">{{ r.branch }}</a>{% else %}—{% endif %}</td>
{% endif %}
<td data-label="Commit"><span class="mono">{{ item.short }}</span></td>
<td data-label="PR">{% if r.pr is not none %}<a href="{{ urls.pull(project.name, r.pr) }}">#{{ r.pr
 }}</a>{% else %}—{% endif %}</td>
<td data-label="Started">{{ r.started_at }}</td>
<td data-label="Verdicts">{{ item.tally }}</td>
<td data-label="CI">{% if item.ci %}<a href="{{ item.ci }}" rel="noopener noreferrer">log</a>{%
 elif r.ci_url %}<span class="mono">{{ r.ci_url }}</span>{% else %}—{% endif %}</td>
</tr>
{% endfor %}
</tbody></table></div>
{% endmacro %}
"""

_PROJECTS = """{% extends "base.html" %}
{% from "macros.html" import status %}
{% block body %}
<header class="page"><h1><span>Projects</span></h1></header>
<main>
{% if items %}
<div class="scroll"><table class="runs">
<thead><tr><th scope=col>Project</th><th scope=col>Default branch</th>
<th scope=col>Newest run there</th><th scope=col>Verdicts</th></tr></thead>
<tbody>
{% for project, latest in items %}
<tr><td class="name" data-label="Project"><a class="project-link"
 href="{{ urls.project(project.name) }}">{{ project.name }}</a></td>
<td class="branch" data-label="Default branch">{{ project.default_branch }}</td>
<td data-label="Newest run">{% if latest %}<a href="{{ urls.run(project.name, latest.row.id) }}">#{{
 latest.row.id }}</a> {{ status(latest.row.status) }}{% else %}no runs yet{% endif %}</td>
<td data-label="Verdicts">{{ latest.tally if latest else '—' }}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}
<p>No public projects yet. Create one with <code>perfci server project create NAME</code>.</p>
{% endif %}
</main>
{% endblock %}
"""

_RUNS = (
    """{% extends "base.html" %}
{% from "runs_macros.html" import run_rows %}
{% block crumbs %}"""
    + _PROJECT_CRUMB
    + """{% endblock %}
{% block body %}
<header class="page"><h1><span>{{ project.name }}</span></h1>
<nav class="toc" aria-label="Views">
<a href="{{ urls.trend(project.name, branch=project.default_branch) }}">Trends on
 {{ project.default_branch }}</a></nav></header>
<main>
<h2>Runs{% if branch %} on {{ branch }}{% endif %}{% if status %} ({{ status }}){% endif %}</h2>
<div class="filters" role="navigation" aria-label="Filter runs">
<span class="label">Branch</span>
<a class="chip{% if not branch %} on{% endif %}" href="{{ urls.project(project.name, status=status)
 }}">all</a>
{% for b in branches %}<a class="chip{% if b == branch %} on{% endif %}" href="{{
 urls.project(project.name, branch=b, status=status) }}">{{ b }}</a>
{% endfor %}
<span class="label">Status</span>
<a class="chip{% if not status %} on{% endif %}" href="{{ urls.project(project.name, branch=branch)
 }}">any</a>
{% for s in ['passed', 'failed', 'error'] %}
<a class="chip{% if s == status %} on{% endif %}" href="{{
 urls.project(project.name, branch=branch, status=s) }}">{{ s }}</a>
{% endfor %}
</div>
{% if rows %}
{{ run_rows(rows, project, urls, show_branch=not branch) }}
{% else %}
<p>No runs match.</p>
{% endif %}
{% if older is not none %}<p class="pager"><a rel="next" href="{{ urls.project(project.name,
 branch=branch, status=status, before=older) }}">Older runs →</a></p>{% endif %}
</main>
{% endblock %}
"""
)

_RUN = (
    """{% extends "base.html" %}
{% block crumbs %}"""
    + _PROJECT_CRUMB
    + """<span class="sep">/</span>
<span>run #{{ record.id }}</span>{% endblock %}
{% block body %}
<header class="page">
<h1><span>{{ project.name }} · run #{{ record.id }}</span>
<span class="status {{ state.lower() }}">{{ {'PASSED': '✓', 'FAILED': '✗'}.get(state, '!') }}
 {{ state }} (exit {{ result.exit_code }})</span></h1>
<p class="tally">{{ tally }}</p>
<dl class="meta">
<dt>suite</dt><dd>{{ result.suite }}</dd>
<dt>branch</dt><dd>{% if result.branch %}
<a href="{{ urls.project(project.name, branch=result.branch) }}">{{ result.branch }}</a>
{% else %}—{% endif %}</dd>
<dt>commit</dt><dd><span class="mono">{{ result.commit or '—' }}</span></dd>
{% if record.pr is not none %}<dt>pull request</dt>
<dd><a href="{{ urls.pull(project.name, record.pr) }}">#{{ record.pr }}: head against base</a></dd>
{% endif %}
<dt>started</dt><dd>{{ result.started_at }}</dd>
{% if record.recorded_at %}<dt>uploaded</dt><dd>{{ record.recorded_at }}</dd>{% endif %}
<dt>duration</dt><dd>{{ '%.1f' % result.duration_s }} s</dd>
<dt>baseline</dt><dd>{{ result.baseline_path or 'none' }}</dd>
<dt>checks</dt><dd>{{ result.checks | join(', ') or '—' }}</dd>
{% if result.skipped_checks %}
<dt>skipped</dt><dd>{{ result.skipped_checks | join(', ') }}</dd>
{% endif %}
{% if environment %}
<dt>environment</dt><dd><span class="mono">{{ environment }}</span></dd>
{% endif %}
{% if record.ci_url %}<dt>CI</dt><dd>{% if ci %}<a href="{{ ci }}" rel="noopener noreferrer">{{ ci
 }}</a>{% else %}<span class="mono">{{ record.ci_url }}</span>{% endif %}</dd>{% endif %}
</dl>
{% if result.judgement.unmatched_rules %}
<div class="notice"><strong>Rules that matched nothing:</strong>
<ul>{% for rule in result.judgement.unmatched_rules %}<li>{{ rule }}</li>{% endfor %}</ul></div>
{% endif %}
{% if result.error %}<div class="notice"><strong>Error:</strong> {{ result.error }}</div>{% endif %}
</header>
<main>
{{ table }}
</main>
{% endblock %}
"""
)

_TREND = (
    """{% extends "base.html" %}
{% from "macros.html" import status %}
{% block crumbs %}"""
    + _PROJECT_CRUMB
    + """<span class="sep">/</span>
<a href="{{ urls.trend(project.name, branch=branch) }}">trends on {{ branch }}</a>{% endblock %}
{% block body %}
<header class="page"><h1><span>{% if metric %}{{ metric }}{% else %}Trends{% endif %}</span></h1>
<p class="tally">Runs on {{ branch }}, oldest on the left. Failing runs are large diamonds on a
 tinted column; every mark links to its run.</p></header>
<main>
{% if metric %}
{% if rows %}
<figure class="card wide" id="trend" data-metric="{{ metric }}">{{ chart }}{{ legend }}</figure>
<h2>Runs</h2>
<div class="scroll"><table class="runs">
<thead><tr><th scope=col>Run</th><th scope=col>Status</th><th scope=col>Commit</th>
<th scope=col>Value</th><th scope=col>Verdict</th></tr></thead>
<tbody>
{% for item in rows %}{% set e = item.entry %}
<tr><td data-label="Run"><a class="run-link" href="{{ urls.run(project.name, e.run_id) }}">#{{
 e.run_id }}</a></td>
<td data-label="Status">{{ status(e.status) }}</td>
<td data-label="Commit"><span class="mono">{{ item.short }}</span></td>
<td data-label="Value">{{ item.value }}</td>
<td data-label="Verdict">{{ item.verdict or '—' }}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}
<p>No run on {{ branch }} measured this metric.</p>
{% endif %}
{% endif %}
{% if metric %}
<p><a href="{{ urls.trend(project.name, branch=branch) }}">Every metric on {{ branch }}</a></p>
{% elif metrics %}
<h2>Metrics of the newest run on {{ branch }}</h2>
<ul class="metrics">
{% for name in metrics %}<li><a href="{{ urls.trend(project.name, name, branch=branch) }}">{{ name
 }}</a></li>
{% endfor %}
</ul>
{% else %}
<p>No runs on {{ branch }} yet.</p>
{% endif %}
</main>
{% endblock %}
"""
)

_PULL = (
    """{% extends "base.html" %}
{% from "runs_macros.html" import run_rows %}
{% block crumbs %}"""
    + _PROJECT_CRUMB
    + """<span class="sep">/</span>
<span>PR #{{ number }}</span>{% endblock %}
{% block body %}
<header class="page">
<h1><span>{{ project.name }} · PR #{{ number }}</span>{% if verdict %}
<span class="status {{ verdict.state.lower() }}">{{ '✗' if verdict.state == 'FAILED' else '✓' }} {{
 verdict.state }}</span>{% endif %}</h1>
{% if verdict %}<p class="tally">Head against base: {{ verdict.tally }}</p>{% endif %}
<div class="compare">
<section><h3>Head</h3>{% if head %}<p><a class="run-link" href="{{ urls.run(project.name, head.id)
 }}">run #{{ head.id }}</a> on {{ head_result.branch or '—' }} at
 <span class="mono">{{ (head_result.commit or '—')[:10] }}</span></p>{% else %}
<p>No run was uploaded for this PR.</p>{% endif %}</section>
<section><h3>Base</h3>{% if base %}<p><a class="run-link" href="{{ urls.run(project.name, base.id)
 }}">run #{{ base.id }}</a>: the newest passing run on {{ project.default_branch }}, at
 <span class="mono">{{ (base_result.commit or '—')[:10] }}</span></p>{% else %}
<p>No passing run on {{ project.default_branch }} to compare with.</p>{% endif %}</section>
</div>
</header>
<main>
{{ table }}
{% if pushes %}
<h2>Runs of this PR</h2>
{{ run_rows(pushes, project, urls) }}
{% endif %}
</main>
{% endblock %}
"""
)

_NOT_FOUND = """{% extends "base.html" %}
{% block body %}
<header class="page"><h1><span>Not found</span></h1></header>
<main><p>{{ message }}</p></main>
{% endblock %}
"""

TEMPLATES: dict[str, str] = {
    "base.html": _BASE,
    "macros.html": _STATUS,
    "runs_macros.html": _RUN_ROWS,
    "projects.html": _PROJECTS,
    "runs.html": _RUNS,
    "run.html": _RUN,
    "trend.html": _TREND,
    "pull.html": _PULL,
    "not_found.html": _NOT_FOUND,
}
