"""The scoring database: submissions by key, one row per (model, benchmark), deliveries.

Any SQLAlchemy URL works: SQLite for one machine, PostgreSQL for a shared service. Each
result is committed as soon as it exists, so a worker that dies loses at most the pair it
was running.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    make_url,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

# Submission states.
RECEIVED = "received"
SCORING = "scoring"
SCORED = "scored"
FAILED = "failed"

# Delivery states.
PENDING = "pending"
SENT = "sent"
# A stored error, which its author gets by email, is cut to this many characters: it can
# quote text that submission code chose.
MAX_ERROR_CHARACTERS = 2000


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Base(DeclarativeBase):
    pass


class Submission(Base):
    """One package, keyed by the zip's sha256, and where it came from."""

    __tablename__ = "submissions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    submission: Mapped[str] = mapped_column(String(200))
    models: Mapped[list[str]] = mapped_column(JSON)
    source_commit: Mapped[str | None] = mapped_column(String(64))
    pull_request: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(100))
    repository: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=RECEIVED)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class Score(Base):
    """The result of one model on one benchmark; `finished_at` is None while it runs."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("key", "model", "benchmark"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(ForeignKey("submissions.key"))
    model: Mapped[str] = mapped_column(String(200))
    benchmark: Mapped[str] = mapped_column(String(200))
    raw: Mapped[float | None] = mapped_column(Float)
    ceiling: Mapped[float | None] = mapped_column(Float)
    ceiled: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """Whether the author's email for a key was sent, and the last failure if not."""

    __tablename__ = "deliveries"

    key: Mapped[str] = mapped_column(ForeignKey("submissions.key"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    address_source: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


@dataclasses.dataclass(frozen=True)
class PairResult:
    """The result of one (model, benchmark) run; scores are None when `error` is set."""

    raw: float | None = None
    ceiling: float | None = None
    ceiled: float | None = None
    error: str | None = None
    details: dict[str, Any] | None = None


def default_database_url(home: Path) -> str:
    return f"sqlite:///{home / 'scores.sqlite'}"


class Store:
    """The scoring database behind one SQLAlchemy URL, created on first use."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url)
        Base.metadata.create_all(self.engine)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def get_submission(self, key: str) -> Submission | None:
        with self.session() as session:
            return session.get(Submission, key)

    def add_submission(
        self, key: str, manifest: dict[str, Any], origin: dict[str, Any]
    ) -> Submission:
        """Return the submission under `key`, adding it when it is new.

        `origin` contains `pull_request`, `author`, `repository` as the trigger sent them.
        """
        with self.session() as session:
            existing = session.get(Submission, key)
            if existing is not None:
                return existing
            row = Submission(
                key=key,
                submission=manifest["submission"],
                models=list(manifest["models"]),
                source_commit=origin.get("commit") or manifest.get("source_commit"),
                pull_request=origin.get("pull_request"),
                author=origin.get("author"),
                repository=origin.get("repository"),
                status=RECEIVED,
                received_at=utc_now(),
            )
            session.add(row)
            session.commit()
            return row

    def set_status(self, key: str, status: str, error: str | None = None) -> None:
        with self.session() as session:
            row = session.get(Submission, key)
            row.status = status
            row.error = cap_error(error)
            if status in (SCORED, FAILED):
                row.finished_at = utc_now()
            session.commit()

    def finished_pairs(self, key: str) -> set[tuple[str, str]]:
        with self.session() as session:
            rows = session.scalars(
                select(Score).where(Score.key == key, Score.finished_at.is_not(None))
            )
            return {(row.model, row.benchmark) for row in rows}

    def start_pair(
        self, key: str, model: str, benchmark: str, started_at: datetime.datetime | None = None
    ) -> None:
        """Record that a pair starts, replacing what an interrupted run left behind."""
        with self.session() as session:
            row = self._pair(session, key, model, benchmark)
            if row is None:
                row = Score(key=key, model=model, benchmark=benchmark)
                session.add(row)
            row.raw = row.ceiling = row.ceiled = None
            row.error = None
            row.details = None
            row.started_at = started_at or utc_now()
            row.finished_at = None
            session.commit()

    def finish_pair(self, key: str, model: str, benchmark: str, result: PairResult) -> None:
        with self.session() as session:
            row = self._pair(session, key, model, benchmark)
            row.raw = result.raw
            row.ceiling = result.ceiling
            row.ceiled = result.ceiled
            row.error = cap_error(result.error)
            row.details = result.details
            row.finished_at = utc_now()
            session.commit()

    def delete_pair(self, key: str, model: str, benchmark: str) -> None:
        with self.session() as session:
            row = self._pair(session, key, model, benchmark)
            if row is not None:
                session.delete(row)
                session.commit()

    def scores(self, key: str) -> list[Score]:
        with self.session() as session:
            return list(
                session.scalars(
                    select(Score).where(Score.key == key).order_by(Score.model, Score.benchmark)
                )
            )

    def get_delivery(self, key: str) -> Delivery | None:
        with self.session() as session:
            return session.get(Delivery, key)

    def pending_deliveries(self) -> list[str]:
        with self.session() as session:
            rows = session.scalars(select(Delivery).where(Delivery.status == PENDING))
            return [row.key for row in rows]

    def record_delivery(
        self, key: str, *, sent: bool, address_source: str | None, error: str | None = None
    ) -> None:
        """Record one delivery attempt; a failed attempt leaves the delivery pending."""
        with self.session() as session:
            row = session.get(Delivery, key)
            if row is None:
                row = Delivery(key=key, status=PENDING, attempts=0)
                session.add(row)
            row.attempts += 1
            row.address_source = address_source
            row.status = SENT if sent else PENDING
            row.last_error = error
            row.sent_at = utc_now() if sent else row.sent_at
            session.commit()

    def request_delivery(self, key: str) -> None:
        """Mark the email for `key` as owed, so that a later `notify --pending` sends it."""
        with self.session() as session:
            row = session.get(Delivery, key)
            if row is None:
                session.add(Delivery(key=key, status=PENDING, attempts=0))
            else:
                row.status = PENDING
            session.commit()

    @staticmethod
    def _pair(session: Session, key: str, model: str, benchmark: str) -> Score | None:
        return session.scalars(
            select(Score).where(
                Score.key == key, Score.model == model, Score.benchmark == benchmark
            )
        ).first()


def cap_error(text: str | None) -> str | None:
    """Cut an error text to MAX_ERROR_CHARACTERS, saying how much was left out."""
    if text is None or len(text) <= MAX_ERROR_CHARACTERS:
        return text
    left_out = len(text) - MAX_ERROR_CHARACTERS
    return f"{text[:MAX_ERROR_CHARACTERS]} [... {left_out} more characters left out]"
