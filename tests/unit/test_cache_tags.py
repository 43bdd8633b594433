from uuid import UUID

from jobprep.interviews import cache_tags as interview_tags
from jobprep.job_infos import cache_tags as job_info_tags

JOB = UUID("3f1c8a4e-8a7b-4a55-9d0c-6f1f1d2f9a10")
IV = UUID("7b0e2c61-5f3e-4d8e-a1f4-2c9b8d6e5a31")


def test_job_info_tags_are_the_original_apps() -> None:
    assert job_info_tags.job_info_tags(JOB, "user_1") == [
        "global:jobInfos",
        "user:user_1:jobInfos",
        f"id:{JOB}:jobInfos",
    ]


def test_interview_tags_are_the_original_apps() -> None:
    assert interview_tags.interview_tags(IV, JOB) == [
        "global:interviews",
        f"jobInfo:{JOB}:interviews",
        f"id:{IV}:interviews",
    ]
