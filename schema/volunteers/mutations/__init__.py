import graphene

from .activities import (
    CancelActivitySignup,
    CancelServiceActivity,
    CheckInToActivity,
    CheckOutOfActivity,
    PublishServiceActivity,
    SignUpForActivity,
)
from .hours import CorrectServiceHours, ExportServiceHours
from .party import (
    ConfirmPartyMemberRegistration,
    EndPartyMemberRegistration,
    RegisterAsPartyMember,
    RejectPartyMemberRegistration,
)
from .task_work import (
    CheckInOnSite,
    CompleteTaskAssignment,
    MarkEnRoute,
    RespondToOffer,
    WithdrawFromTask,
)
from .tasks import (
    AddPersonToTask,
    CancelTask,
    CloseTask,
    CreateTask,
    CreateTaskFromReport,
    OfferTaskToVolunteer,
    RemovePersonFromTask,
    SetTaskHeadcount,
    StartDispatch,
    UpdateTask,
)
from .teams import (
    AddTeamMember,
    OfferTaskToTeam,
    RemoveTeamMember,
    RespondToTeamOffer,
    SaveTeam,
    SetTeamDutyStatus,
)
from .volunteer_profile import (
    SetOnDuty,
    SetTemporaryLocation,
    SignUpAsVolunteer,
    UpdateMyVolunteerProfile,
)
from .volunteer_staff import ApproveVolunteer, ReinstateVolunteer, SuspendVolunteer


class VolunteersMutations(graphene.ObjectType):
    """Volunteer sign-up and approval, Party-member registration, activities, check-in,
    tasks (staff), offers and the work on a task (volunteers)."""

    sign_up_as_volunteer = SignUpAsVolunteer.Field()
    update_my_volunteer_profile = UpdateMyVolunteerProfile.Field()
    set_on_duty = SetOnDuty.Field()
    set_temporary_location = SetTemporaryLocation.Field()
    approve_volunteer = ApproveVolunteer.Field()
    suspend_volunteer = SuspendVolunteer.Field()
    reinstate_volunteer = ReinstateVolunteer.Field()
    register_as_party_member = RegisterAsPartyMember.Field()
    confirm_party_member_registration = ConfirmPartyMemberRegistration.Field()
    reject_party_member_registration = RejectPartyMemberRegistration.Field()
    end_party_member_registration = EndPartyMemberRegistration.Field()
    publish_service_activity = PublishServiceActivity.Field()
    cancel_service_activity = CancelServiceActivity.Field()
    sign_up_for_activity = SignUpForActivity.Field()
    cancel_activity_signup = CancelActivitySignup.Field()
    check_in_to_activity = CheckInToActivity.Field()
    check_out_of_activity = CheckOutOfActivity.Field()
    correct_service_hours = CorrectServiceHours.Field()
    export_service_hours = ExportServiceHours.Field()
    create_task = CreateTask.Field()
    create_task_from_report = CreateTaskFromReport.Field()
    update_task = UpdateTask.Field()
    set_task_headcount = SetTaskHeadcount.Field()
    cancel_task = CancelTask.Field()
    close_task = CloseTask.Field()
    start_dispatch = StartDispatch.Field()
    offer_task_to_volunteer = OfferTaskToVolunteer.Field()
    add_person_to_task = AddPersonToTask.Field()
    remove_person_from_task = RemovePersonFromTask.Field()
    respond_to_offer = RespondToOffer.Field()
    mark_en_route = MarkEnRoute.Field()
    check_in_on_site = CheckInOnSite.Field()
    complete_task_assignment = CompleteTaskAssignment.Field()
    withdraw_from_task = WithdrawFromTask.Field()
    save_team = SaveTeam.Field()
    set_team_duty_status = SetTeamDutyStatus.Field()
    add_team_member = AddTeamMember.Field()
    remove_team_member = RemoveTeamMember.Field()
    offer_task_to_team = OfferTaskToTeam.Field()
    respond_to_team_offer = RespondToTeamOffer.Field()
