"""The EHC needs-assessment pathway: requests → decision → assessment → plan.

Before a child is referred for a special school place, the council must decide
whether to assess their needs, assess them, and issue a plan, by law within 20
weeks of the request. This package models that pathway as FIFO queues served by
staff groups, in the same discrete-event house as the places: the same calendar
(day ordinals), the same streams (source ``"pathway"``) and the same Results.

Scenario section (optional, top level; :class:`placeplan.scenario.PathwaySpec`)::

    pathway:
      requests:                       # PathwayRequests
        per_year: 3343                # requests received in base_year [requests/year]
        base_year: 2024
        growth: {mean: 0.05, sd: 0.03}   # Uncertain, log scale [per year]
        ages: {4: 10, 5: 12, ...}     # optional relative weights by SEN2 age
        source: "..."
      outcomes:                       # PathwayOutcomes; each an Uncertain share
        withdrawn: 0.003              # of requests, withdrawn at the decision
        assess: 0.74                  # of requests decided, share assessed
        issue: 0.955                  # of assessments, share ending in a plan
        source: "..."
      stages:                         # PathwayStages: exactly these three, in order
        decision:   {staff: caseworkers, work_days: 1.0, work_cv: 1.0, min_weeks: 4, source: "..."}
        assessment: {staff: psychologists, work_days: 3.0, min_weeks: 6, source: "..."}
        plan:       {staff: caseworkers, work_days: 2.0, min_weeks: 6,
                     delay_weeks: 3, delay_cv: 1.0, source: "..."}
      staff:                          # dict of StaffGroup, names [A-Za-z][A-Za-z0-9_]*
        caseworkers:
          fte: 60                     # in post at the start [FTE]
          days_per_year: 180          # Uncertain [days/FTE/year]: casework days of one FTE
          changes:                    # tuple of StaffChange
            - {name: "...", from: 2024-04-01, fte: 34, lead_weeks: 16, source: "..."}
          source: "..."
      backlog:                        # PathwayBacklog: BacklogStage per stage
        decision:   {cases: 300, mean_weeks_open: 5}
        assessment: {cases: 900, mean_weeks_open: 12}
        plan:       {cases: 400, mean_weeks_open: 22}
        source: "..."
      target_pct_within_20_weeks: 60  # optional [%]
      target_source: "..."
      feed:                           # PathwayFeed (cohort demand only)
        shift_referrals: true
        baseline_weeks_to_plan: null  # [weeks]; null: the replication's first year
        source: "..."
      calibration: {...}              # optional, a placeplan.scenario.Calibration
      source: "..."

Final field names (for helper ``pathdata``): ``requests.{per_year, base_year, growth,
ages, source}``; ``outcomes.{withdrawn, assess, issue, source}``;
``stages.{decision, assessment, plan}.{staff, work_days, work_cv, min_weeks,
delay_weeks, delay_cv, source}``; ``staff.<group>.{fte, days_per_year, changes, source}`` with
``changes[i].{name, from, fte, lead_weeks, source}`` (``StaffChange.effective`` is
``from + lead_weeks``); ``backlog.{decision, assessment, plan}.{cases,
mean_weeks_open}`` and ``backlog.source``; ``target_pct_within_20_weeks``,
``target_source``, ``feed``, ``calibration``, ``source``.

Uncertain parameters are assumptions with fixed stream slots
(:data:`placeplan.streams.ASSUMPTIONS`): ``pathway.requests.growth``,
``pathway.outcomes.withdrawn``, ``pathway.outcomes.assess``,
``pathway.outcomes.issue``, ``pathway.stages.<stage>.delay_weeks``, and
``pathway.staff.<group>.days_per_year`` (slot fixed by the group's name). Every
other draw of the pathway comes from the stream source ``"pathway"``.

Queue discipline (``discipline``): ``fifo`` (the default) serves each staff group's
waiting tasks in the order they became ready; ``deadline_first`` gives a free member
of staff the oldest request still within 20 weeks, else the oldest late one
(non-preemptive). Deadline-first starves late cases when a group is short: with
caseworkers doing both decisions and plans, fresh decisions always win and plans
stop, so it is a lever to explore, not the calibrated default.

Meaning: a case's time in a stage is its FIFO wait for its staff group (stages with
the same group share it), then its work (``work_days`` of one FTE's casework time,
gamma with coefficient of variation ``work_cv``), then the stage's fixed minimum
(``min_weeks``), then the case's own delay for what the staff group does not control
(health and social care advice, parents' consultation, permitted exceptions:
log-normal with mean ``delay_weeks`` and coefficient of variation ``delay_cv``; none
by default). Without the delay every case's time outside the queue is the same, and a
year's share on time is nearly all or nothing; the delay spreads it. Time to plan is
the day the plan is issued less the day of the request; "within 20 weeks" means at
most 140 days, as SEN2 counts it.
"""

from __future__ import annotations

__all__: list[str] = []
